"""Request dependencies as ``Annotated`` aliases; tests swap them with dependency_overrides."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from linkplane.api.pagination import PageParams, page_params
from linkplane.durable.client import WorkflowClient
from linkplane.errors import Forbidden, Unauthorized
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal

bearer = HTTPBearer(auto_error=False, description="auth_token from POST /api/v1/authenticate")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


#: Methods that only read (no write lock needed on SQLite).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed when the handler returns, rolled back on error.

    On SQLite (``app.state.sqlite_writes``, a lock) the writing requests of this process
    take turns, whole transaction by whole transaction: SQLite's busy handler polls, so
    under a burst an unlucky writer could lose the race for the write lock until its
    ``busy_timeout`` ran out ("database is locked", a 500; issue 13 item 1). A lock that
    blocks instead of polling is handed on in order; admission bounds how many wait."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    turn: AbstractContextManager[object] = nullcontext()
    writes: threading.Lock | None = getattr(request.app.state, "sqlite_writes", None)
    if writes is not None and request.method not in SAFE_METHODS:
        turn = writes
    with turn, factory() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
# scope="function": commit before the response is sent, so a 2xx means the change is
# durable and the client's next request reads it (the default "request" scope commits after).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
PageDep = Annotated[PageParams, Depends(page_params)]


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token: POST /api/v1/authenticate first")
    from linkplane.tenancy.service import principal_from_auth_token

    return principal_from_auth_token(session=session, settings=settings, token=creds.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_writer(principal: PrincipalDep) -> Principal:
    if not principal.can_write:
        raise Forbidden("this user is read-only: ask an administrator of your organisation")
    return principal


WriterDep = Annotated[Principal, Depends(require_writer)]


def require_provider_admin(principal: PrincipalDep) -> Principal:
    if not principal.provider_admin:
        raise Forbidden("only provider administrators may do this")
    return principal


ProviderAdminDep = Annotated[Principal, Depends(require_provider_admin)]


def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    """For the rare handler that needs its own transactions (e.g. counting failed logins)."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


FactoryDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]


def get_workflows(request: Request) -> WorkflowClient:
    """How this process starts and signals workflows (the DBOS queue; see linkplane.durable)."""
    workflows: WorkflowClient = request.app.state.workflows
    return workflows


WorkflowsDep = Annotated[WorkflowClient, Depends(get_workflows)]
