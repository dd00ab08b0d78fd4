"""Quota shapes as the emnify reference names them (ids are strings there)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code

#: A volume larger than this (MB or SMS) is refused: 1 PB of data is no device's quota.
MAX_VOLUME = 1_000_000_000


class CodeIn(BaseModel):
    """``{"id": 1}``; the reference types it ``"1"``, emnify's clients send 1: both work."""

    model_config = ConfigDict(extra="forbid")

    id: Code
    description: str | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Code
    description: str | None = None
    #: Deprecated by emnify with Throttle; accepted only so old clients are not refused.
    peak_throughput: Code | None = None


class QuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CodeIn
    volume: float = Field(ge=0, le=MAX_VOLUME, allow_inf_nan=False)
    #: ISO 8601; without a zone it is UTC; emnify's "YYYY-MM-DD hh:mm:ss" works too.
    expiry_date: datetime
    action_on_exhaustion: ActionIn | None = None
    auto_refill: Code | bool = 0
    threshold_percentage: float | None = Field(None, ge=0, le=100, allow_inf_nan=False)
    threshold_volume: float | None = Field(None, ge=0, le=MAX_VOLUME, allow_inf_nan=False)
    #: Kept by linkplane itself; accepted (the reference lists them) and not used.
    last_volume_added: float | None = Field(None, allow_inf_nan=False)
    last_status_change_date: str | None = None


class CodeRead(BaseModel):
    id: str
    description: str


class QuotaRead(BaseModel):
    status: CodeRead
    volume: float
    expiry_date: datetime
    action_on_exhaustion: CodeRead
    auto_refill: int
    last_volume_added: float
    last_status_change_date: datetime
    threshold_percentage: float | None = None
    threshold_volume: float | None = None
