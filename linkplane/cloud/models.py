"""The AWS rate budget shared by every process on one PostgreSQL database."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base


class AwsRateBucket(Base):
    """One token bucket per (service, account, region, action class), as AWS keeps them.

    ``tokens`` is the level at ``stamp`` (seconds since the epoch on the database's clock,
    so hosts with skewed clocks agree); it goes below zero while callers queue for tokens
    lent ahead. Only :mod:`linkplane.cloud.budget` reads or writes it, one statement a time.
    """

    __tablename__ = "aws_rate_bucket"

    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    action_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)
