"""Domain error hierarchy: one base with a stable ``code``.

Transports translate these once (HTTP status in the API, exit code in the CLI); domain code
raises them and never returns error values.
"""

from __future__ import annotations


class LinkplaneError(Exception):
    """Base of every error linkplane raises on purpose; ``code`` is stable for clients."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(LinkplaneError):
    code = "not_found"


class Conflict(LinkplaneError):
    code = "conflict"


class InvalidInput(LinkplaneError):
    """Bad input; ``field`` names what to fix so API and portal show it next to the field."""

    code = "invalid_input"


class Forbidden(LinkplaneError):
    code = "forbidden"


class Unauthorized(LinkplaneError):
    code = "unauthorized"
