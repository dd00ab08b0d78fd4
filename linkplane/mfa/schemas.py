"""Request and response bodies of the MFA API, in emnify's field names."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from linkplane.mfa.models import KeyStatus, KeyType

STATUS_NAMES = {KeyStatus.ACTIVATION_PENDING: "Activation Pending", KeyStatus.ACTIVE: "Active"}
TYPE_NAMES = {KeyType.TOTP: "TOTP"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdRef(BaseModel):
    id: int = Field(ge=0, le=2**31 - 1)


class IdDescription(BaseModel):
    id: int
    description: str


class KeyCreate(Strict):
    type: IdRef
    password: str = Field(min_length=1, max_length=1024)


class KeyActivate(Strict):
    status: IdRef
    code: str = Field(min_length=1, max_length=16)


class KeyCreated(BaseModel):
    """The secret and its ``otpauth://`` URI appear in this answer only."""

    id: int
    status: IdDescription
    type: IdDescription
    secret_key: str
    otpauth: str
    creation_date: datetime


class TrustedDeviceRead(BaseModel):
    id: int
    name: str | None = None
    operating_system: str | None = None
    browser: str | None = None
    activation_date: datetime
    expiry_date: datetime
