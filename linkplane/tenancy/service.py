"""Tenancy services: organisations, users, tokens, authentication."""

from __future__ import annotations

from sqlalchemy.orm import Session

from linkplane.errors import Unauthorized
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal


def principal_from_auth_token(*, session: Session, settings: Settings, token: str) -> Principal:
    """Resolve a bearer ``auth_token`` to the calling principal (or raise Unauthorized)."""
    raise Unauthorized("authentication is not available yet")
