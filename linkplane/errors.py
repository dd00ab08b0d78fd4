"""Domain error hierarchy: one base with a stable ``code``.

Transports translate these once (HTTP status in the API, exit code in the CLI); domain code
raises them and never returns error values.
"""

from __future__ import annotations


class LinkplaneError(Exception):
    """Base of every error linkplane raises on purpose; ``code`` is stable for clients."""

    code = "error"

    def __init__(
        self, message: str, *, field: str | None = None,
        details: list[tuple[str, str]] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.field = field
        #: (field, message) of every problem, when one request has several (bulk requests
        #: name each failing item, e.g. ``endpoints[3].sim``); ``field`` is the first.
        self.details = details or ([(field, message)] if field else [])


class NotFound(LinkplaneError):
    code = "not_found"


class Conflict(LinkplaneError):
    code = "conflict"


def item_field(prefix: str, index: int, field: str | None) -> str:
    """The field of item ``index`` of a list: ``endpoints[3].sim``, ``[3].id``."""
    return f"{prefix}[{index}]" + (f".{field}" if field else "")


class InvalidInput(LinkplaneError):
    """Bad input; ``field`` names what to fix so API and portal show it next to the field."""

    code = "invalid_input"


class BadRequest(InvalidInput):
    """A malformed request where the published API answers 400 rather than 422."""

    code = "bad_request"


class Forbidden(LinkplaneError):
    code = "forbidden"


class TooManyRequests(LinkplaneError):
    """A rate limit was hit; ``retry_after`` says in how many seconds to try again."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(LinkplaneError):
    code = "unauthorized"
