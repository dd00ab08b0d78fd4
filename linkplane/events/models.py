"""The audit trail: who changed what, when, in which organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_org_ts", "org_id", "timestamp"),
        Index("ix_event_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: emnify event type name, e.g. "Endpoint created", "Breakout state changed".
    event_type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[int] = mapped_column(Integer, default=0)  # 0 INFO, 1 WARN, 2 CRITICAL
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | network | policy
    description: Mapped[str] = mapped_column(Text)
    #: Who did it: "user:<id>", "token:<id>", "system", "workflow".
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entity_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    entity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: JSON text with structured details (AWS resource ids, old/new values).
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
