"""Control characters in request bodies: refused once, at the API's boundary, for every route.

NUL, ESC and the other C0/C1 controls, and the bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069), have no place in a name or a description: stored, they
break terminals and logs, truncate C strings, and make a name display as something else
("Trojan Source"). Checking the parsed JSON of every body here, rather than field by field,
means a new field cannot forget it. Tab, newline and carriage return stay allowed in texts
(descriptions, SMS), never in names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from linkplane.errors import InvalidInput

_BIDI = "\u202a-\u202e\u2066-\u2069"
#: Anywhere in a body.
TEXT_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
#: In names, which are one line.
NAME_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
NAME_KEYS = frozenset({"name", "username", "tags"})


def first_control(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field, character) of the first forbidden character in a parsed JSON value."""
    if isinstance(value, str):
        rule = NAME_FORBIDDEN if path.rsplit(".", 1)[-1] in NAME_KEYS else TEXT_FORBIDDEN
        found = rule.search(value)
        return (path or "body", found.group()) if found else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    for where, item in items:
        hit = first_control(item, where)
        if hit:
            return hit
    return None


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
