"""Structured logging. Secrets never reach a log line: known secret keys are masked, and so
are the passwords of URLs (database URLs) anywhere in a line.

Every process kind calls :func:`configure` first (``LINKPLANE_LOG_JSON``,
``LINKPLANE_LOG_LEVEL``): our structlog lines and the standard library's (uvicorn, DBOS,
SQLAlchemy) then share one renderer, JSON lines or a console format, with the same masking
and the context bound with ``structlog.contextvars`` (a workflow binds its workflow and
breakout ids, :func:`linkplane.durable.steps.log_context`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = frozenset(
    {"password", "secret", "token", "auth_token", "refresh_token", "aws_secret_access_key",
     "application_token", "authorization", "SecretAccessKey", "SessionToken", "PreSharedKey"}
)  # fmt: skip
MASK = "***"
#: ``scheme://user:password@host``: the password part.
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]+:)([^@\s]+)(@)")


def _mask_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in SECRET_KEYS or key.lower().endswith(("password", "secret", "token", "psk")):
            event[key] = MASK
        elif isinstance(value, str) and "://" in value:
            event[key] = _URL_PASSWORD.sub(rf"\1{MASK}\3", value)
    return event


def _shared() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_secrets,
    ]


def configure(level: str = "INFO", *, json: bool = False) -> None:
    """Configure logging once per process; JSON lines for machines, console for people."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )  # fmt: skip
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Per-request and per-migration chatter (the embedded cloud's access log, one line per
    # DBOS or Alembic migration step) drowns what matters; their warnings still show.
    for noisy in ("werkzeug", "alembic", "dbos"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
