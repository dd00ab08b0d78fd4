"""Portal request dependencies: the signed-in principal, writers only, checked forms."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from linkplane.api.deps import SessionDep, SettingsDep
from linkplane.errors import Forbidden, Unauthorized
from linkplane.portal import sessions
from linkplane.tenancy.principal import Principal


def portal_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """The principal of the session cookie, resolved exactly as the API resolves a bearer."""
    token = sessions.session_token(request)
    if token is None:
        raise Unauthorized("please sign in")
    from linkplane.tenancy.service import principal_from_auth_token

    return principal_from_auth_token(session=session, settings=settings, token=token)


PortalPrincipal = Annotated[Principal, Depends(portal_principal)]


def checked_form(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    """Every state-changing form proves it was rendered by us for this session."""
    sessions.verify_csrf(request, csrf_token)


CsrfChecked = Depends(checked_form)


def portal_writer(principal: PortalPrincipal) -> Principal:
    """Read-only users see no buttons; this refuses their POSTs even if they craft one."""
    if not principal.can_write:
        raise Forbidden("your user is read-only: ask an administrator of your organisation")
    return principal


PortalWriter = Annotated[Principal, Depends(portal_writer)]
