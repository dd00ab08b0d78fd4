"""Service profiles (what an endpoint may do) and tariff profiles (what it costs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class ServiceProfile(Base):
    __tablename__ = "service_profile"
    __table_args__ = (Index("ix_service_profile_org_id_id", "org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    allowed_3g: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_4g: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_nb_iot: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_nb_iot_geo: Mapped[bool] = mapped_column(Boolean, default=False)
    apply_sms_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    apply_data_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    retail: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_p2p_int: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_p2p_ext: Mapped[bool] = mapped_column(Boolean, default=True)
    nipdp: Mapped[bool] = mapped_column(Boolean, default=False)
    #: linkplane extension: endpoints with this profile may reach the organisation's
    #: Cloud Connect breakouts (the core packet policy reads it).
    allow_cloud_connect: Mapped[bool] = mapped_column(Boolean, default=False)
    #: emnify's ``breakout_region``: the core region (a bootstrapped region's name) where the
    #: traffic of this profile's endpoints leaves the core; their addresses come from that
    #: region's device pool. None: no region chosen, any of the organisation's spaces.
    breakout_region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TariffProfile(Base):
    __tablename__ = "tariff_profile"
    __table_args__ = (Index("ix_tariff_profile_org_id_id", "org_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The organisation's tariff (see ``linkplane.tariffs``); None only before one is set.
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariff.id"), nullable=True)
    #: The organisation's inclusive volume whose traffic this profile counts against
    #: (unset by the tariffs feature before it deletes an inclusive volume).
    inclusive_volume_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_inclusive_volume.id"), nullable=True
    )
