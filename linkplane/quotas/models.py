"""Endpoint quotas: a prepaid volume of data (bytes) or SMS that the endpoint may use until
it expires. Enforced only when the endpoint's service profile applies that quota."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class QuotaKind(StrEnum):
    DATA = "data"
    SMS = "sms"


class QuotaStatus(IntEnum):
    ACTIVE = 1
    EXHAUSTED = 2
    EXPIRED = 3


#: Data quotas count bytes and show MB (10^6 bytes, as the usage statistics); SMS count SMS.
UNIT = {QuotaKind.DATA: 1_000_000, QuotaKind.SMS: 1}
BLOCK = 1  # the only action on exhaustion emnify still offers (Throttle was decommissioned)


class EndpointQuota(Base):
    __tablename__ = "endpoint_quota"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "kind", name="uq_endpoint_quota_endpoint_kind"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[int] = mapped_column(Integer)
    #: What is left, in bytes (data) or SMS.
    remaining: Mapped[int] = mapped_column(BigInteger)
    #: The volume of the last POST, also what an auto-refill restores each day.
    last_volume_added: Mapped[int] = mapped_column(BigInteger)
    expiry_date: Mapped[datetime] = mapped_column(UTCDateTime())
    auto_refill: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold_percentage: Mapped[float | None] = mapped_column(Float, nullable=True)
    action_on_exhaustion: Mapped[int] = mapped_column(Integer, default=BLOCK)
    last_status_change_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The UTC day of the last (auto-)refill, so a refill happens once per day.
    refilled_on: Mapped[date] = mapped_column(Date())
    #: The "threshold reached" event was sent for the current volume.
    threshold_reached: Mapped[bool] = mapped_column(Boolean, default=False)
