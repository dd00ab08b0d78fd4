"""The provider's tariff catalogue and what organisations chose from it.

A tariff has rate zones (groups of countries) and, per rate zone, inclusive volumes on offer
(so many MB a month for a monthly rate). Each organisation has one tariff; it assigns
inclusive volumes of that tariff's rate zones for some months, and its tariff profiles select
rate zones (where their endpoints may roam) and may carry one of its inclusive volumes.
linkplane bills nothing: these are the facts emnify's API reports and lets clients change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow

_AUTOINCREMENT = {"sqlite_autoincrement": True}


class CatalogueStatus(IntEnum):
    """emnify's tariff and rate zone status ids."""

    ACTIVE = 1
    INACTIVE = 2


#: emnify currency ids (``currency_id``) with their codes and symbols.
CURRENCIES: dict[int, tuple[str, str]] = {1: ("EUR", "€"), 2: ("USD", "$")}


class Tariff(Base):
    __tablename__ = "tariff"
    __table_args__ = (_AUTOINCREMENT,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status_id: Mapped[int] = mapped_column(Integer, default=CatalogueStatus.ACTIVE)
    currency_id: Mapped[int] = mapped_column(Integer, default=1)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Ratezone(Base):
    __tablename__ = "ratezone"
    __table_args__ = (_AUTOINCREMENT,)

    id: Mapped[int] = mapped_column(primary_key=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    status_id: Mapped[int] = mapped_column(Integer, default=CatalogueStatus.ACTIVE)


class RatezoneCountry(Base):
    """A country (id of the operator list's countries) covered by a rate zone."""

    __tablename__ = "ratezone_country"

    ratezone_id: Mapped[int] = mapped_column(
        ForeignKey("ratezone.id", ondelete="CASCADE"), primary_key=True
    )
    country_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class InclusiveVolume(Base):
    """An offer of the catalogue: ``volume`` MB a month in a rate zone for ``rate``."""

    __tablename__ = "inclusive_volume"
    __table_args__ = (_AUTOINCREMENT,)

    id: Mapped[int] = mapped_column(primary_key=True)
    ratezone_id: Mapped[int] = mapped_column(
        ForeignKey("ratezone.id", ondelete="CASCADE"), index=True
    )
    volume: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float)


class OrganisationTariff(Base):
    """The one tariff of an organisation (absent: the catalogue's default tariff)."""

    __tablename__ = "organisation_tariff"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True
    )
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id"))


class OrgInclusiveVolume(Base):
    """An inclusive volume an organisation assigned itself for the months
    ``start_date`` .. ``end_date`` (None: until further notice)."""

    __tablename__ = "org_inclusive_volume"
    __table_args__ = (Index("ix_org_inclusive_volume_org_id_start", "org_id", "start_date"),
                      _AUTOINCREMENT)  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    inclusive_volume_id: Mapped[int] = mapped_column(ForeignKey("inclusive_volume.id"))
    #: The first day of a month.
    start_date: Mapped[date] = mapped_column(Date())
    #: The last day of a month, or None.
    end_date: Mapped[date | None] = mapped_column(Date(), nullable=True)
    pooled: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TariffProfileRatezone(Base):
    """A rate zone selected in a tariff profile (its endpoints may be used there)."""

    __tablename__ = "tariff_profile_ratezone"

    tariff_profile_id: Mapped[int] = mapped_column(
        ForeignKey("tariff_profile.id", ondelete="CASCADE"), primary_key=True
    )
    ratezone_id: Mapped[int] = mapped_column(
        ForeignKey("ratezone.id", ondelete="CASCADE"), primary_key=True
    )
