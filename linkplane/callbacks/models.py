"""API callbacks (customer URLs), their signing secrets, which service profile uses which,
and the outbox of deliveries to them (drained by ``callbacks.worker``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class ApiCallback(Base):
    __tablename__ = "api_callback"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiSecret(Base):
    """An HMAC key the organisation shares with its callback receiver. Stored as given (it
    signs every delivery, so it cannot be a one-way hash), shown only once, never logged."""

    __tablename__ = "api_secret"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    secret: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProfileCallback(Base):
    """The callback (and secret) of a service profile: where its endpoints' MO SMS go."""

    __tablename__ = "profile_callback"

    service_profile_id: Mapped[int] = mapped_column(
        ForeignKey("service_profile.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    api_callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_callback.id"), nullable=True, index=True
    )
    api_secret_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_secret.id"), nullable=True, index=True
    )


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"


class CallbackDelivery(Base):
    """One message to deliver, durably: written in the transaction that produced it, sent
    by whichever worker leases it, retried with backoff until delivered or given up."""

    __tablename__ = "callback_delivery"
    __table_args__ = (
        Index("ix_callback_delivery_due", "state", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    #: The target is resolved at each attempt from the endpoint's service profile, so a
    #: corrected URL or secret applies to the retries of earlier messages too.
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoint.id", ondelete="CASCADE"))
    sms_id: Mapped[int] = mapped_column(ForeignKey("sms.id", ondelete="CASCADE"), index=True)
    #: The exact bytes every attempt sends (JSON), so retries are identical.
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: A worker holds the delivery until then; past it, another worker may take it over.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
