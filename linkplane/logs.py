"""Structured logging. Secrets never reach a log line: known secret keys are masked."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = frozenset(
    {"password", "secret", "token", "auth_token", "refresh_token", "aws_secret_access_key",
     "application_token", "authorization", "SecretAccessKey", "SessionToken"}
)


def _mask_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        if key in SECRET_KEYS or key.lower().endswith(("password", "secret", "token")):
            event[key] = "***"
    return event


def configure(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog once per process; JSON lines for machines, console for people."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
