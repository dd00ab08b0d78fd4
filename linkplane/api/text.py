"""Control characters in request bodies: refused once, at the API's boundary, for every route.

The rules are in :mod:`linkplane.text`. Checking the parsed JSON of every body here, rather
than field by field, means a new field cannot forget it.
"""

from __future__ import annotations

import json

from fastapi import Request

from linkplane.errors import InvalidInput
from linkplane.text import first_control


async def refuse_control_characters(request: Request) -> None:
    """App-wide dependency: a JSON body with a forbidden character is a 422 naming the field."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if "json" not in request.headers.get("content-type", ""):
        return
    try:
        data = json.loads(await request.body())
    except ValueError:
        return  # malformed JSON: FastAPI's body parsing reports it
    hit = first_control(data)
    if hit is not None:
        field, char = hit
        raise InvalidInput(
            f"contains the control character U+{ord(char):04X}; names and texts may not "
            "contain NUL, ESC, other control characters or bidirectional overrides "
            "(U+202A-U+202E, U+2066-U+2069)",
            field=field,
        )
