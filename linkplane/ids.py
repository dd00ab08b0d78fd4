"""The one bounded id type: every id a client can send (path, query, body) is checked here.

Ids are bounded to what every supported database stores (PostgreSQL INTEGER, 2**31-1), so an
absurd id is a 4xx naming the field rather than a driver ``OverflowError`` and a 500. Only
ASCII digits count: ``str.isdigit()`` also accepts ``²`` or ``٣``, which ``int()`` refuses or
reads as another number. A JSON ``true`` is not the id 1 (pydantic would take it as one).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from linkplane.errors import InvalidInput

MAX_ID = 2**31 - 1


def ascii_digits(text: str) -> bool:
    """Non-empty and only 0-9."""
    return text.isascii() and text.isdigit()


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


# The bounds come before the validator so that they also show in the OpenAPI document.
#: A row id: 1 .. 2**31-1.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_not_bool)]
#: A status, type or other code (some start at 0), and other small non-negative numbers.
Code = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(_not_bool)]


def in_range(value: int, low: int = 1) -> bool:
    return low <= value <= MAX_ID


def parse_id(raw: str, field: str, *, low: int = 1) -> int:
    """``raw`` as an id, or InvalidInput naming ``field`` and saying what an id looks like."""
    text = raw.strip()
    if not ascii_digits(text) or not in_range(int(text), low):
        raise InvalidInput(
            f"{raw!r} is not a valid id: use a whole number from {low} to {MAX_ID}", field=field
        )
    return int(text)


def bounded_int(raw: str) -> int:
    """``raw`` as a number from 0 to MAX_ID, else ValueError (for filter parsers that name the
    field themselves): filters compare with id and code columns, which overflow past it."""
    text = raw.strip()
    if not ascii_digits(text) or int(text) > MAX_ID:
        raise ValueError(f"{raw!r} is not a whole number from 0 to {MAX_ID}")
    return int(text)
