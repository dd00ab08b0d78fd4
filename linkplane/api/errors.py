"""The one translation of domain errors to HTTP, in emnify's error body shape.

Body: ``{"status_code", "message", "error_code", "error_token", "errors": [{"field", "message"}]}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from linkplane import errors
from linkplane.cloud import errors as cloud_errors
from linkplane.logs import get_logger

log = get_logger(__name__)

STATUS: list[tuple[type[errors.LinkplaneError], int]] = [
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.BadRequest, 400),
    (errors.InvalidInput, 422),
    (errors.Forbidden, 403),
    (errors.Unauthorized, 401),
    (errors.TooManyRequests, 429),
    (cloud_errors.Transient, 503),
    (cloud_errors.CloudError, 502),
]


def status_for(exc: errors.LinkplaneError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_body(
    status: int, message: str, token: str, field_errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "status_code": status,
        "message": message,
        "error_code": status,
        "error_token": token,
        "errors": field_errors or [],
    }


async def _domain(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LinkplaneError)
    status = status_for(exc)
    fields = [{"field": field, "message": message} for field, message in exc.details]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, errors.TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse(error_body(status, exc.message, exc.code, fields), status, headers)


def _loc(loc: tuple[Any, ...]) -> str:
    """``("body", "endpoints", 3, "sim")`` -> ``endpoints[3].sim``, as domain errors name
    items of a list."""
    text = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _message(error: Any) -> str:
    if error.get("type") == "extra_forbidden":
        # Pydantic's "Extra inputs are not permitted" does not say what to do about it.
        return "unknown field: not part of this request (docs/api-compat.md lists the fields)"
    return str(error["msg"])


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """``[{"field", "message"}]`` of a request that failed validation (API and portal)."""
    return [_field_error(e) for e in exc.errors()]


def _field_error(error: Any) -> dict[str, str]:
    if error.get("type") == "json_invalid":
        # Its loc is ("body", <character offset>): the offset is no field name.
        position = error["loc"][-1] if len(error["loc"]) > 1 else 0
        why = (error.get("ctx") or {}).get("error", "malformed")
        return {
            "field": "body",
            "message": f"the body is not valid JSON ({why} at character {position}); "
            "send a JSON object with Content-Type: application/json",
        }
    return {"field": _loc(tuple(error["loc"])), "message": _message(error)}


#: A route declares ``openapi_extra={MALFORMED_STATUS: 400}`` where the published API answers
#: a malformed body with 400 instead of 422 (``POST /authenticate``).
MALFORMED_STATUS = "x-linkplane-malformed-status"


def _malformed_status(request: Request) -> int:
    extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
    return int(extra.get(MALFORMED_STATUS, 422))


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = field_errors(exc)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    status = _malformed_status(request)
    code = "bad_request" if status == 400 else "invalid_input"
    body = error_body(status, f"Invalid request: {summary}", code, fields)
    return JSONResponse(body, status)


#: FastAPI's words for a body it could not even decode (not UTF-8, say).
UNPARSABLE = "There was an error parsing the body"


async def _http(_req: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == UNPARSABLE:
        message = "the body could not be read: send UTF-8 JSON with Content-Type: application/json"
        fields = [{"field": "body", "message": message}]
        return JSONResponse(error_body(400, message, "invalid_input", fields), 400)
    return JSONResponse(
        error_body(exc.status_code, str(exc.detail), "http_error"), exc.status_code, exc.headers
    )


async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback for operators; the client gets the same body shape, no details.
    log.error("unhandled error", exc_info=exc)
    return JSONResponse(error_body(500, "internal error", "internal_error"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(errors.LinkplaneError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
