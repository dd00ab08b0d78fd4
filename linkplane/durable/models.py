"""Heartbeats of workflow executors, so live ones can take over a dead one's workflows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class ExecutorHeartbeat(Base):
    """One row per live executor (``linkplane worker`` or ``up`` process).

    The table keeps the name it had when only breakout workflows ran (migration 0004), so
    upgraded databases keep their rows.
    """

    __tablename__ = "breakout_executor"

    executor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    application_version: Mapped[str] = mapped_column(String(64))
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
