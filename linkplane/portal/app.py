"""The portal as its own small ASGI app, mounted at ``/`` after the API's routes.

A separate app keeps the portal out of the API's OpenAPI document and gives it its own error
translation: the API answers errors in emnify's JSON body, the portal with a page or a
redirect to sign-in. Paths under ``/api/`` that reach it (unknown API routes) still get the
API's JSON 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkplane import errors
from linkplane.api.errors import error_body, field_errors, status_for
from linkplane.durable.client import WorkflowClient
from linkplane.portal import sessions, views
from linkplane.settings import Settings


def create_portal(
    settings: Settings, factory: sessionmaker[Session], workflows: WorkflowClient
) -> FastAPI:
    portal = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    portal.state.settings = settings
    portal.state.sessionmaker = factory
    portal.state.workflows = workflows
    portal.mount("/static", StaticFiles(directory=str(views.STATIC_DIR)), name="static")
    from linkplane.portal import breakout_routes, fleet_routes, routes

    portal.include_router(routes.router)
    portal.include_router(fleet_routes.router)
    portal.include_router(breakout_routes.router)
    portal.add_exception_handler(errors.LinkplaneError, _domain)
    portal.add_exception_handler(StarletteHTTPException, _http)
    portal.add_exception_handler(RequestValidationError, _invalid)
    portal.middleware("http")(_page_headers)
    return portal


#: Only our own scripts, styles and images, no inline script or style (htmx and portal.js
#: are served from /static), forms post only to us, and pages are never framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)

#: Pages may not be framed (their buttons change things) nor kept in shared caches.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def _page_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(PAGE_HEADERS)
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _return_path(request: Request) -> str:
    """Where to come back after signing in: this page, or for a form the page it was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def _sign_in_redirect(request: Request, expired: bool) -> Response:
    target = _return_path(request)
    location = f"/login?next={quote(target)}" + ("&expired=1" if expired else "")
    if request.headers.get("HX-Request"):
        # htmx would swap a redirect's page into a fragment; ask it to navigate instead.
        response: Response = Response(status_code=204, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    if expired:
        sessions.end_session(response)
    return response


async def _domain(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.LinkplaneError)
    if isinstance(exc, errors.Unauthorized):
        return _sign_in_redirect(request, expired=sessions.session_token(request) is not None)
    status = status_for(exc)
    return views.render(request, "error.html", None, status, status=status, message=exc.message)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/api/"):
        body = error_body(exc.status_code, str(exc.detail), "http_error")
        return JSONResponse(body, exc.status_code, exc.headers)
    message = "page not found" if exc.status_code == 404 else str(exc.detail)
    return views.render(
        request, "error.html", None, exc.status_code, status=exc.status_code, message=message
    )


async def _invalid(request: Request, exc: Exception) -> Response:
    """A page, never FastAPI's raw ``{"detail": ...}``: a malformed id in the address is a
    page that does not exist (404); a bad form or query value says which field (422)."""
    assert isinstance(exc, RequestValidationError)
    if any(e["loc"][:1] == ("path",) for e in exc.errors()):
        status, message = 404, "page not found"
    else:
        fields = field_errors(exc)
        status = 422
        message = "Invalid request: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return views.render(request, "error.html", None, status, status=status, message=message)
