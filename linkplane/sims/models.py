"""SIMs shipped by the provider to an organisation; visible to it once their batch is registered."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class Sim(Base):
    __tablename__ = "sim"
    __table_args__ = (
        Index("ix_sim_org_id_id", "org_id", "id"),
        Index("ix_sim_org_id_bic", "org_id", "bic"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    iccid: Mapped[str] = mapped_column(String(20), unique=True)
    imsi: Mapped[str] = mapped_column(String(15), unique=True)
    msisdn: Mapped[str] = mapped_column(String(15), unique=True)
    #: Batch identification code printed on the shipment; registering it reveals the SIMs.
    bic: Mapped[str] = mapped_column(String(64))
    registered: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[int] = mapped_column(Integer, default=0)
    production_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activation_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SimStatus(IntEnum):
    ISSUED = 0
    ACTIVATED = 1
    SUSPENDED = 2
    FACTORY_TEST = 4

    @property
    def description(self) -> str:
        return _SIM_DESCRIPTIONS[self]


_SIM_DESCRIPTIONS = {
    SimStatus.ISSUED: "Issued",
    SimStatus.ACTIVATED: "Activated",
    SimStatus.SUSPENDED: "Suspended",
    SimStatus.FACTORY_TEST: "Factory Test",
}

#: The SIM lifecycle, written once (emnify: Issued -> Activated | Factory Test;
#: Factory Test -> Activated; Activated <-> Suspended).
SIM_TRANSITIONS: dict[SimStatus, frozenset[SimStatus]] = {
    SimStatus.ISSUED: frozenset({SimStatus.ACTIVATED, SimStatus.FACTORY_TEST}),
    SimStatus.FACTORY_TEST: frozenset({SimStatus.ACTIVATED}),
    SimStatus.ACTIVATED: frozenset({SimStatus.SUSPENDED}),
    SimStatus.SUSPENDED: frozenset({SimStatus.ACTIVATED}),
}
