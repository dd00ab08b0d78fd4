"""What a service profile offers (services), how much (data limits per month, predefined
SMS limits) and the temporary data-limit extensions of single endpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class ProfileService(Base):
    """The service is offered to endpoints of the profile (absent: refused)."""

    __tablename__ = "profile_service"

    service_profile_id: Mapped[int] = mapped_column(
        ForeignKey("service_profile.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class DataLimit(Base):
    """At most ``volume`` bytes per calendar month (UTC) for each endpoint of the profile."""

    __tablename__ = "profile_data_limit"
    __table_args__ = (
        UniqueConstraint(
            "service_profile_id",
            "service_id",
            "satellite_only",
            name="uq_profile_data_limit_kind",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    service_profile_id: Mapped[int] = mapped_column(
        ForeignKey("service_profile.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(Integer)
    #: Applies only on satellite RATs, which linkplane's simulators never use.
    satellite_only: Mapped[bool] = mapped_column(Boolean, default=False)
    period_id: Mapped[int] = mapped_column(Integer)
    volume: Mapped[int] = mapped_column(BigInteger)
    warning_percent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SmsLimitAssignment(Base):
    """A predefined SMS limit (see ``catalogue.SMS_LIMITS``) given to a profile's service."""

    __tablename__ = "profile_sms_limit"

    service_profile_id: Mapped[int] = mapped_column(
        ForeignKey("service_profile.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    limit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))


class TrafficLimitExtension(Base):
    """Extra bytes on top of a data limit for one endpoint, until the limit's period ends."""

    __tablename__ = "traffic_limit_extension"
    __table_args__ = (
        Index("ix_traffic_limit_extension_endpoint", "endpoint_id", "expiration_date"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoint.id", ondelete="CASCADE"))
    traffic_limit_id: Mapped[int] = mapped_column(
        ForeignKey("profile_data_limit.id", ondelete="CASCADE")
    )
    volume: Mapped[int] = mapped_column(BigInteger)
    expiration_date: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
