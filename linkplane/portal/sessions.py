"""Portal sessions and CSRF tokens.

The session cookie holds the same ``auth_token`` the API hands out, so the portal signs in the
same users, honours the same expiry and resolves the same :class:`Principal` per request; the
portal keeps no session state of its own. The cookie is HttpOnly (scripts never see the token)
and SameSite=Lax (other sites cannot send it with their POSTs).

CSRF: a signed-in form carries HMAC(auth_token, purpose), bound to this session and useless
to anyone who cannot read the HttpOnly cookie. The sign-in form, before any session exists,
uses a double-submit token: a random HttpOnly cookie echoed in a hidden field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from linkplane.errors import Forbidden

SESSION_COOKIE = "linkplane_session"
PRESESSION_COOKIE = "linkplane_presession"
CSRF_FIELD = "csrf_token"
_PURPOSE = b"linkplane-portal-csrf-v1"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, token: str, max_age: int) -> None:
    """Hand the browser its session; the pre-session token is spent (no fixation)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
        path="/",
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def presession_token(request: Request) -> str:
    """The sign-in form's token: the browser's existing one, or a fresh one to set."""
    return request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(32)


def set_presession(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        PRESESSION_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
        path="/",
    )


def csrf_for_session(token: str) -> str:
    return hmac.new(token.encode(), _PURPOSE, hashlib.sha256).hexdigest()


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form whose token does not match this browser's session (or pre-session)."""
    token = session_token(request)
    expected = csrf_for_session(token) if token else request.cookies.get(PRESESSION_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden("this form has expired or did not come from this site: reload the page")
