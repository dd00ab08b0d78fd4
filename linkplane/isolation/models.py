"""The core policy last written (and possibly loaded) for each gateway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class CorePolicyState(Base):
    """One row per core gateway (``core`` for now): the digest decides whether a regenerated
    policy must be written and loaded again, so unchanged fleets cost no ``nft`` run."""

    __tablename__ = "core_policy_state"

    gateway: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    devices: Mapped[int] = mapped_column(Integer, default=0)
    cidrs: Mapped[int] = mapped_column(Integer, default=0)
    #: Where ``nft -f`` loaded it ("" when only the file was written).
    loaded_into: Mapped[str] = mapped_column(String(128), default="")
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
