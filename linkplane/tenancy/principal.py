"""Who is calling: resolved once per request, applied by every query's scoping."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OBSERVER = "observer"  # read-only


@dataclass(frozen=True)
class Principal:
    user_id: int | None  # None for application tokens
    org_id: int
    role: Role
    #: Provider-level administrators manage organisations across tenants.
    provider_admin: bool = False
    token_id: int | None = None

    @property
    def can_write(self) -> bool:
        return self.role is Role.ADMIN
