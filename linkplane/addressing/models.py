"""IP address spaces (a provider pool, assigned to organisations) and allocator state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class IpAddressSpace(Base):
    """A CIDR inside ``settings.device_cidr``; ``org_id`` None means unassigned (in the pool).

    ``next_offset`` is the allocation cursor: every host offset below it has been handed out
    once (and is either in use or in :class:`FreeAddress`), so allocation never scans.
    """

    __tablename__ = "ip_address_space"

    id: Mapped[int] = mapped_column(primary_key=True)
    cidr: Mapped[str] = mapped_column(String(43), unique=True)
    ip_version: Mapped[int] = mapped_column(Integer, default=4)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), nullable=True, index=True
    )
    next_offset: Mapped[int] = mapped_column(Integer, default=1)
    #: Addresses held by endpoints; updated with every allocation, which also makes the
    #: allocation take this row's write lock first, serialising allocators of one space.
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FreeAddress(Base):
    """A released host offset below the cursor, handed out again before the cursor moves."""

    __tablename__ = "ip_free_address"

    space_id: Mapped[int] = mapped_column(
        ForeignKey("ip_address_space.id", ondelete="CASCADE"), primary_key=True
    )
    offset: Mapped[int] = mapped_column(Integer, primary_key=True)
