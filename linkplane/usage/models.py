"""One row per endpoint and day: the bytes the mobile core counted for it (CDR-like).

linkplane has no radio network of its own, so these rows only ever come from an import of
the provider's records (or from ``linkplane usage simulate``, for demos).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class UsageRecord(Base):
    __tablename__ = "usage_record"
    __table_args__ = (
        # The accumulate key of the import; its unique index also serves the per-endpoint
        # range reads (endpoint_id, day), so no second index on the same columns.
        UniqueConstraint("endpoint_id", "day", name="uq_usage_record_endpoint_day"),
        # The dashboard's chart and the organisation's stats: one range scan per organisation.
        Index("ix_usage_record_org_id_day", "org_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    #: Kept as NULL when the endpoint is deleted: the organisation's history must not shrink.
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("endpoint.id", ondelete="SET NULL"), nullable=True
    )
    #: The SIM that carried the traffic, when known (an endpoint may change SIMs later).
    sim_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim.id", ondelete="SET NULL"), nullable=True
    )
    day: Mapped[date] = mapped_column(Date())
    #: Bytes sent by the device (uplink) and received by it (downlink), emnify's tx/rx.
    bytes_tx: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_rx: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UsageHour(Base):
    """The same traffic by hour, for records delivered with one (the ``hour`` column of an
    import): what the hourly statistics read. The day's :class:`UsageRecord` counts it too."""

    __tablename__ = "usage_hour"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "hour", name="uq_usage_hour_endpoint_hour"),
        Index("ix_usage_hour_org_id_hour", "org_id", "hour"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("endpoint.id", ondelete="SET NULL"), nullable=True
    )
    sim_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim.id", ondelete="SET NULL"), nullable=True
    )
    #: The start of the UTC hour.
    hour: Mapped[datetime] = mapped_column(UTCDateTime())
    bytes_tx: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_rx: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
