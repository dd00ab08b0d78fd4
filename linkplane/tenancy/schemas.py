"""Request and response bodies of the tenancy API, in emnify's field names."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from linkplane.ids import Code
from linkplane.tenancy.models import TokenStatus, UserStatus
from linkplane.tenancy.principal import Role

#: emnify role ids (support-token spec: "1" admin, "3" observer; 2 is emnify's "User").
ROLE_IDS: dict[Role, int] = {Role.ADMIN: 1, Role.OBSERVER: 3}
ROLE_NAMES: dict[Role, str] = {Role.ADMIN: "Administrator", Role.OBSERVER: "Observer"}
ROLE_BY_ID: dict[int, Role] = {v: k for k, v in ROLE_IDS.items()}
USER_STATUS_NAMES = {
    UserStatus.ACTIVATION_PENDING: "ACTIVATION_PENDING",
    UserStatus.ACTIVE: "ACTIVE",
    UserStatus.SUSPENDED: "SUSPENDED",
}
TOKEN_STATUS_NAMES = {TokenStatus.ACTIVATED: "Activated", TokenStatus.REVOKED: "Revoked"}

Str128 = Field(min_length=1, max_length=128)


class Strict(BaseModel):
    """Unknown fields are refused with a 422 naming them, rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- authentication ------------------------------------------------------------------------


class TrustedDevice(BaseModel):
    fingerprint: str | None = Field(default=None, max_length=256)
    operating_system: str | None = Field(default=None, max_length=256)
    browser: str | None = Field(default=None, max_length=256)
    name: str | None = Field(default=None, max_length=256)


class AuthenticateRequest(BaseModel):
    """One of: application_token; username + password; refresh_token (emnify)."""

    application_token: str | None = Field(default=None, max_length=512)
    username: str | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, max_length=1024)
    refresh_token: str | None = Field(default=None, max_length=512)
    fingerprint: str | None = Field(default=None, max_length=256)
    mfa_token: str | None = Field(default=None, max_length=512)
    code: str | None = Field(default=None, max_length=16)
    trusted_device: TrustedDevice | None = None


class AuthenticateResponse(BaseModel):
    """Tokens, or only ``mfa_token`` when the user still owes a one-time code."""

    auth_token: str | None = None
    refresh_token: str | None = None
    mfa_token: str | None = None


# --- lookups -------------------------------------------------------------------------------


class IdRef(BaseModel):
    id: Code


class IdName(BaseModel):
    id: int
    name: str


class IdDescription(BaseModel):
    id: int
    description: str


class RoleRead(BaseModel):
    id: int
    name: str
    description: str


# --- organisations -------------------------------------------------------------------------


class OrganisationRead(BaseModel):
    id: int
    name: str
    created: datetime
    #: linkplane extension: admins of a provider organisation manage all organisations.
    provider: bool = False


class AdminCreate(Strict):
    username: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=8, max_length=1024)
    name: str | None = Field(default=None, min_length=1, max_length=128)


class OrganisationCreate(Strict):
    name: str = Str128
    #: First administrator (optional; without it nobody can log in to the organisation yet).
    admin: AdminCreate | None = None


# --- users ---------------------------------------------------------------------------------


class UserRead(BaseModel):
    id: int
    username: str
    name: str
    created: datetime
    status: IdDescription
    organisation: IdName
    roles: list[RoleRead]


class UserCreate(Strict):
    username: str = Field(min_length=3, max_length=254)
    name: str = Str128
    organisation: IdRef | None = None
    roles: list[IdRef] | None = Field(default=None, max_length=1)
    #: linkplane extension: without it the user stays ACTIVATION_PENDING (no e-mail flow).
    password: str | None = Field(default=None, min_length=8, max_length=1024)


class UserUpdate(Strict):
    username: str | None = Field(default=None, min_length=3, max_length=254)
    name: str | None = Field(default=None, min_length=1, max_length=128)
    status: IdRef | None = None
    organisation: IdRef | None = None
    #: linkplane extension: replace the role (one role per user).
    roles: list[IdRef] | None = Field(default=None, min_length=1, max_length=1)
    #: linkplane extension: set a new password (also activates a pending user with status 1).
    password: str | None = Field(default=None, min_length=8, max_length=1024)


# --- application tokens --------------------------------------------------------------------


class ApplicationTokenCreate(Strict):
    description: str | None = Field(default=None, max_length=512)
    expiry_date: datetime | None = None
    ip: str | None = Field(default=None, max_length=64)


class ApplicationTokenCreated(BaseModel):
    """emnify returns only the secret; linkplane adds the id (the Location header has it too)."""

    application_token: str
    id: int


class CreatorRead(BaseModel):
    id: int | None
    username: str | None = None


class ApplicationTokenRead(BaseModel):
    id: int
    description: str | None
    created: datetime
    status: IdDescription
    expiry_date: datetime | None
    ip: str | None
    creator: CreatorRead

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """emnify leaves out ``expiry_date`` and ``ip`` when unset; its schema has no null."""
        data: dict[str, Any] = handler(self)
        for key in ("expiry_date", "ip"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


class StatusRef(BaseModel):
    id: Literal[0, 1]


class ApplicationTokenUpdate(Strict):
    description: str | None = Field(default=None, max_length=512)
    status: StatusRef | None = None
