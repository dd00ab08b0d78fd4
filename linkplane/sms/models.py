"""SMS to (MT) and from (MO) endpoints, with emnify's delivery states."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class SmsType(IntEnum):
    MT = 1  # mobile terminated: to the device
    MO = 2  # mobile originated: from the device


class SmsStatus(IntEnum):
    PENDING = 1  # "Delivery attempt pending"
    IN_PROGRESS = 2
    BUFFERED = 3
    DELIVERED = 4
    FAILED = 5
    EXPIRED = 6
    CANCELED = 7

    @property
    def description(self) -> str:
        return self.name.replace("_", " ")


#: The MT lifecycle, written once: which status may follow which.
SMS_TRANSITIONS: dict[SmsStatus, frozenset[SmsStatus]] = {
    SmsStatus.PENDING: frozenset(
        {SmsStatus.IN_PROGRESS, SmsStatus.BUFFERED, SmsStatus.EXPIRED, SmsStatus.CANCELED}
    ),
    SmsStatus.BUFFERED: frozenset(
        {SmsStatus.IN_PROGRESS, SmsStatus.BUFFERED, SmsStatus.EXPIRED, SmsStatus.CANCELED}
    ),
    SmsStatus.IN_PROGRESS: frozenset({SmsStatus.DELIVERED, SmsStatus.BUFFERED, SmsStatus.FAILED}),
}
#: emnify cancels only SMS that are waiting ("buffered and not yet delivered").
CANCELLABLE = frozenset({SmsStatus.PENDING, SmsStatus.BUFFERED})


class AddressType(IntEnum):
    """GSM type-of-address octets, as emnify numbers ``source_address_type``."""

    INTERNATIONAL = 145
    NATIONAL = 161
    ALPHANUMERIC = 208

    @property
    def description(self) -> str:
        return self.name.capitalize()


class Sms(Base):
    __tablename__ = "sms"
    __table_args__ = (
        Index("ix_sms_endpoint_id_id", "endpoint_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoint.id", ondelete="CASCADE"))
    sms_type: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    source_address: Mapped[str] = mapped_column(String(32))
    source_address_type: Mapped[int] = mapped_column(Integer)
    dest_address: Mapped[str | None] = mapped_column(String(32), nullable=True)
    udh: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dcs: Mapped[int] = mapped_column(Integer, default=0)
    pid: Mapped[int] = mapped_column(Integer, default=0)
    #: The SIM as it was when the SMS was submitted (an endpoint may change SIMs later).
    sim_id: Mapped[int | None] = mapped_column(
        ForeignKey("sim.id", ondelete="SET NULL"), nullable=True
    )
    iccid: Mapped[str | None] = mapped_column(String(20), nullable=True)
    imsi: Mapped[str | None] = mapped_column(String(15), nullable=True)
    msisdn: Mapped[str | None] = mapped_column(String(15), nullable=True)
    submit_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expiry_date: Mapped[datetime] = mapped_column(UTCDateTime())
    delivery_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    final_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_delivery_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the last delivery attempt did not deliver (emnify reports the GSM MAP error).
    gsm_map_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
