"""Who is calling: resolved once per request, applied by every query's scoping."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from linkplane.errors import NotFound


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

    def user_ref(self, ref: str) -> str | int:
        """A ``{user_id}`` path segment: ``my`` is the caller (application tokens have no
        user), anything else a user id or name the service resolves in the organisation."""
        if ref != "my":
            return ref
        if self.user_id is None:
            raise NotFound("an application token has no user", field="user_id")
        return self.user_id
