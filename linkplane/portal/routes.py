"""Portal pages: sign-in, sign-out and the dashboard."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from linkplane.api.deps import SessionDep, SettingsDep
from linkplane.errors import TooManyRequests, Unauthorized
from linkplane.portal import dashboard, sessions, views
from linkplane.portal.deps import CsrfChecked, PortalPrincipal
from linkplane.tenancy.throttle import limiter_on

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send people to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request, *, next_path: str, username: str = "", error: str | None = None,
    status_code: int = 200, **flags: bool,
) -> HTMLResponse:  # fmt: skip
    presession = sessions.presession_token(request)
    response = views.render(
        request, "login.html", None, status_code,
        presession=presession, next=next_path, username=username, error=error, **flags,
    )  # fmt: skip
    sessions.set_presession(request, response, presession)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: str | None = None, expired: bool = False, signed_out: bool = False
) -> HTMLResponse:
    return _login_page(request, next_path=_safe_next(next), expired=expired, signed_out=signed_out)


@router.post("/login", dependencies=[CsrfChecked])
def login_submit(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The API's own password check; the portal only keeps the auth_token it returns. A user
    with MFA gets the code page next, unless this browser is one of their trusted devices."""
    from linkplane.mfa.service import second_factor
    from linkplane.tenancy.service import MfaPending, authenticate_password

    factory: sessionmaker[Session] = request.app.state.sessionmaker
    source = request.client.host if request.client else None
    try:
        limiter_on(request.app.state, settings.auth_attempts_per_minute).take(source)
        result = authenticate_password(
            factory=factory, settings=settings, username=username, password=password,
            source=source,
            second_factor=second_factor(
                settings=settings, fingerprint=request.cookies.get(TRUSTED_COOKIE)),
        )  # fmt: skip
    except (Unauthorized, TooManyRequests) as exc:
        limited = isinstance(exc, TooManyRequests)
        page = _login_page(
            request, next_path=_safe_next(next), username=username, error=exc.message,
            status_code=429 if limited else 401,
        )  # fmt: skip
        if isinstance(exc, TooManyRequests):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if isinstance(result, MfaPending):
        return _code_page(request, mfa_token=result.mfa_token, next_path=_safe_next(next))
    response = RedirectResponse(_safe_next(next), status_code=303)
    sessions.start_session(request, response, result.auth_token, settings.auth_token_ttl_seconds)
    return response


#: A random value this browser keeps once its user chose to trust it (the MFA fingerprint).
TRUSTED_COOKIE = "linkplane_trusted_device"


def _code_page(
    request: Request, *, mfa_token: str, next_path: str, error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    presession = sessions.presession_token(request)
    response = views.render(
        request, "login_mfa.html", None, status_code,
        presession=presession, next=next_path, mfa_token=mfa_token, error=error,
        trusted_days=request.app.state.settings.mfa_trusted_device_days,
    )  # fmt: skip
    sessions.set_presession(request, response, presession)
    return response


@router.post("/login/mfa", dependencies=[CsrfChecked])
def login_code_submit(
    request: Request,
    settings: SettingsDep,
    mfa_token: Annotated[str, Form(max_length=512)],
    code: Annotated[str, Form(max_length=16)],
    next: Annotated[str, Form()] = "/",
    trust: Annotated[bool, Form()] = False,
) -> Response:
    """The second step: the one-time code of the user's authenticator app."""
    from linkplane.mfa.service import DeviceInfo, complete

    factory: sessionmaker[Session] = request.app.state.sessionmaker
    fingerprint = secrets.token_urlsafe(32)
    device = DeviceInfo(fingerprint=fingerprint, name="portal", browser=_browser(request))
    try:
        tokens = complete(
            factory=factory, settings=settings, mfa_token=mfa_token, code=code,
            device=device if trust else None,
        )  # fmt: skip
    except Unauthorized as exc:
        if exc.message.startswith("invalid or expired mfa_token"):
            return _login_page(request, next_path=_safe_next(next), error=exc.message,
                               status_code=401)  # fmt: skip
        return _code_page(request, mfa_token=mfa_token, next_path=_safe_next(next),
                          error=exc.message, status_code=401)  # fmt: skip
    response = RedirectResponse(_safe_next(next), status_code=303)
    sessions.start_session(request, response, tokens.auth_token, settings.auth_token_ttl_seconds)
    if trust:
        response.set_cookie(
            TRUSTED_COOKIE, fingerprint, max_age=settings.mfa_trusted_device_days * 86400,
            httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
    return response


def _browser(request: Request) -> str | None:
    agent = request.headers.get("user-agent")
    return agent[:256] if agent else None


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends the session on the server too: a copied cookie or bearer use of it is refused."""
    from linkplane.tenancy.service import end_session

    token = sessions.session_token(request)
    if token:
        end_session(session=session, settings=settings, token=token)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    sessions.end_session(response)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request, principal: PortalPrincipal, session: SessionDep
) -> HTMLResponse:
    summary = dashboard.summary(session=session, principal=principal)
    chart = views.bar_chart(summary.usage) if summary.usage else None
    return views.render(request, "dashboard.html", principal, summary=summary, chart=chart)
