"""The ``region`` table: what ``linkplane region bootstrap`` built (or adopted) per region."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class Region(Base):
    """One bootstrapped region of the provider account.

    ``tgw_adopted``/``core_vpc_adopted`` record that the operator passed existing ids: such
    resources are never deleted by linkplane (not even by a failed bootstrap's compensation).
    """

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(12))
    tgw_id: Mapped[str] = mapped_column(String(64))
    tgw_arn: Mapped[str] = mapped_column(String(256))
    tgw_adopted: Mapped[bool] = mapped_column(Boolean, default=False)
    core_route_table_id: Mapped[str] = mapped_column(String(64))
    customers_route_table_id: Mapped[str] = mapped_column(String(64))
    core_vpc_id: Mapped[str] = mapped_column(String(64))
    core_vpc_cidr: Mapped[str] = mapped_column(String(64))
    core_vpc_adopted: Mapped[bool] = mapped_column(Boolean, default=False)
    core_attachment_id: Mapped[str] = mapped_column(String(64))
    #: One subnet per Availability Zone the core attachment spans.
    subnet_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    device_cidr: Mapped[str] = mapped_column(String(64))
    #: Optional aggregate of customer CIDRs routed from the core VPC to the TGW at bootstrap.
    customer_aggregate_cidr: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The route table every peering attachment of this region is associated with (made by
    #: the first ``region peer``): the region's own pool and the customer CIDRs served here
    #: for devices elsewhere, nothing else.
    peering_route_table_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RegionPeering(Base):
    """A cross-region TGW peering made by ``linkplane region peer`` (``region`` requested it,
    ``peer_region`` accepted). One row per pair of regions, whichever order it was asked in."""

    __tablename__ = "region_peering"
    __table_args__ = (
        UniqueConstraint("region", "peer_region", name="uq_region_peering_pair"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    peer_region: Mapped[str] = mapped_column(String(32))
    attachment_id: Mapped[str] = mapped_column(String(64))
    #: The attachment's state as linkplane last saw it (``available`` once peered).
    state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def other(self, name: str) -> str:
        """The region across the peering from ``name``."""
        return self.peer_region if name == self.region else self.region
