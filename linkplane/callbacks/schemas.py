"""API callback and API secret shapes (emnify's integrations)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code, Id

#: HS256 wants a key of at least 32 bytes (RFC 7518 section 3.2).
MIN_SECRET = 32


class CallbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048)
    purpose: str | None = Field(None, max_length=64)


class CallbackRead(BaseModel):
    id: int
    url: str
    purpose: str | None = None


class SecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Generated (and shown once in the answer) when left out.
    secret: str | None = Field(None, min_length=MIN_SECRET, max_length=255, repr=False)
    purpose: str | None = Field(None, max_length=64)
    #: The reference lists these in the body; linkplane takes them from the caller.
    organisation_id: Id | str | None = None
    id: Code | None = None


class SecretRead(BaseModel):
    id: int
    organisation_id: str
    purpose: str | None = None


class SecretCreated(SecretRead):
    #: Only in the answer to the create: linkplane never shows it again.
    secret: str


class CallbackRef(BaseModel):
    id: int
    url: str


class SecretRef(BaseModel):
    id: int
