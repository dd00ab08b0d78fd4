"""Endpoints (devices): one row per device, with its IP and at most one SIM."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class Endpoint(Base):
    __tablename__ = "endpoint"
    __table_args__ = (
        # The allocator's safety net: one address is never held by two endpoints.
        UniqueConstraint("ip_address_space_id", "ip_address", name="uq_endpoint_space_ip"),
        # Linking a SIM to exactly one endpoint.
        UniqueConstraint("sim_id", name="uq_endpoint_sim_id"),
        # Listing inside one organisation at 100,000 rows: each index ends in id (the tie
        # break of every sort), so a page's ids and the count come from the index alone.
        Index("ix_endpoint_org_id_id", "org_id", "id"),
        Index("ix_endpoint_org_id_name", "org_id", "name", "id"),
        Index("ix_endpoint_org_id_status", "org_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[int] = mapped_column(Integer, default=0)
    imei: Mapped[str | None] = mapped_column(String(16), nullable=True)
    imei_lock: Mapped[bool] = mapped_column(Boolean, default=False)
    service_profile_id: Mapped[int] = mapped_column(ForeignKey("service_profile.id"), index=True)
    tariff_profile_id: Mapped[int] = mapped_column(ForeignKey("tariff_profile.id"), index=True)
    ip_address_space_id: Mapped[int | None] = mapped_column(
        ForeignKey("ip_address_space.id"), nullable=True
    )
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    sim_id: Mapped[int | None] = mapped_column(ForeignKey("sim.id"), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EndpointStatus(IntEnum):
    ENABLED = 0
    DISABLED = 1
    DELETED = 2

    @property
    def description(self) -> str:
        return self.name.capitalize()


#: Statuses a client may set; "Deleted" is reached only through DELETE.
SETTABLE_ENDPOINT_STATUSES = frozenset({EndpointStatus.ENABLED, EndpointStatus.DISABLED})
