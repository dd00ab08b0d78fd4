"""Which networks a device may attach to: per-endpoint operator blacklists and per-tariff
profile operator and RAT blocklists (emnify's v2 tariff-profile blocklist)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class EndpointOperatorBlacklist(Base):
    """The endpoint may not attach to this operator's network."""

    __tablename__ = "endpoint_operator_blacklist"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoint.id", ondelete="CASCADE"), primary_key=True
    )
    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TariffOperatorBlock(Base):
    """Endpoints of the tariff profile may not attach to this operator at all."""

    __tablename__ = "tariff_operator_block"

    tariff_profile_id: Mapped[int] = mapped_column(
        ForeignKey("tariff_profile.id", ondelete="CASCADE"), primary_key=True
    )
    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TariffRatBlock(Base):
    """Endpoints of the tariff profile may not use this RAT on this operator's network.
    Kept apart from :class:`TariffOperatorBlock`: emnify keeps RAT entries when the whole
    operator is unblocked, and blocks RATs of an operator that is blocked completely."""

    __tablename__ = "tariff_rat_block"

    tariff_profile_id: Mapped[int] = mapped_column(
        ForeignKey("tariff_profile.id", ondelete="CASCADE"), primary_key=True
    )
    operator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rat_type_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
