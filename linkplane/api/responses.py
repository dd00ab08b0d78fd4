"""Small response helpers shared by every feature's routes."""

from __future__ import annotations

from fastapi import Request, Response


def set_location(response: Response, request: Request, path: str) -> None:
    """emnify answers a create with 201 and the new resource's absolute URL in ``Location``
    (clients such as the emnify SDK take the id from its last path segment)."""
    base = str(request.base_url).rstrip("/")
    response.headers["Location"] = f"{base}{path}"


def no_content() -> Response:
    return Response(status_code=204)
