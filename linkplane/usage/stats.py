"""emnify's statistics beyond the endpoint's and organisation's monthly and daily ones: per
SIM, per hour, and the organisation's counts (read from the usage records of
:mod:`linkplane.usage.service`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.errors import InvalidInput
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.sims import service as sims
from linkplane.sims.models import Sim, SimStatus
from linkplane.tenancy.models import User
from linkplane.tenancy.scope import scoped
from linkplane.usage.models import UsageHour, UsageRecord
from linkplane.usage.service import (
    DayVolume,
    Volume,
    day_volumes,
    month_start,
    previous_month_start,
    today_utc,
)


@dataclass(frozen=True)
class SimMonth:
    """One month of one SIM: its volume and when its records last changed."""

    start: date
    volume: Volume
    last_updated: datetime | None


def _sim_month(
    session: Session, org_id: int, sim_id: int, start: date, end: date
) -> SimMonth:
    tx = func.coalesce(func.sum(UsageRecord.bytes_tx), 0)
    rx = func.coalesce(func.sum(UsageRecord.bytes_rx), 0)
    stmt = scoped(select(tx, rx, func.max(UsageRecord.updated)), org_id, UsageRecord)
    row = session.execute(
        stmt.where(UsageRecord.sim_id == sim_id, UsageRecord.day.between(start, end))
    ).one()
    return SimMonth(start, Volume(int(row[0]), int(row[1])), row[2])


def sim_stats(
    *, session: Session, org_id: int, sim_id: int, today: date | None = None
) -> tuple[SimMonth, SimMonth]:
    """Current and last month of the traffic one SIM of the organisation carried (else 404),
    whichever endpoint it was in at the time."""
    sims.get(session=session, org_id=org_id, sim_id=sim_id)
    now = today or today_utc()
    current, last = month_start(now), previous_month_start(now)
    return (
        _sim_month(session, org_id, sim_id, current, now),
        _sim_month(session, org_id, sim_id, last, current - timedelta(days=1)),
    )


def sim_daily(
    *, session: Session, org_id: int, sim_id: int, start: date, end: date
) -> list[DayVolume]:
    """Days with traffic of one SIM of the organisation (else 404), ``start..end``."""
    sims.get(session=session, org_id=org_id, sim_id=sim_id)
    return day_volumes(session, org_id, start, end, UsageRecord.sim_id == sim_id)


@dataclass(frozen=True)
class OrgCounts:
    """What emnify's organisation stats count besides traffic."""

    sims: dict[SimStatus, int]
    service_profiles: int
    tariff_profiles: int
    users: int


def org_counts(*, session: Session, org_id: int) -> OrgCounts:
    """The organisation's registered SIMs per status, profiles and users (four counts)."""
    by_status = select(Sim.status, func.count()).where(
        Sim.org_id == org_id, Sim.registered.is_(True)).group_by(Sim.status)  # fmt: skip
    sims_ = {SimStatus(s): int(n) for s, n in session.execute(by_status)}

    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).where(model.org_id == org_id)) or 0)

    return OrgCounts(sims_, count(ServiceProfile), count(TariffProfile), count(User))


def org_hourly(
    *, session: Session, org_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, Volume]]:
    """Hours with traffic of the organisation, ``start`` <= hour < ``end``."""
    tx, rx = func.sum(UsageHour.bytes_tx), func.sum(UsageHour.bytes_rx)
    stmt = scoped(select(UsageHour.hour, tx, rx), org_id, UsageHour)
    stmt = stmt.where(UsageHour.hour >= start, UsageHour.hour < end)
    rows = session.execute(stmt.group_by(UsageHour.hour).order_by(UsageHour.hour))
    return [(hour, Volume(int(t), int(r))) for hour, t, r in rows if t or r]


def hourly_range(
    start: datetime | None, end: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """emnify's defaults: the last three hours up to now (end one hour after it); ``end``
    needs ``start``; at most a day."""
    moment = now or utcnow()
    if start is None:
        if end is not None:
            raise InvalidInput("end_date must be used with start_date", field="end_date")
        this_hour = moment.replace(minute=0, second=0, microsecond=0)
        return this_hour - timedelta(hours=2), moment + timedelta(hours=1)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    # Without an end the range runs to the hour after now, but never past a day: a start
    # at midnight asked for at 23:30 is that day, not an error about a range nobody gave.
    stop = min(moment + timedelta(hours=1), start + timedelta(days=1)) if end is None else end
    stop = stop if stop.tzinfo else stop.replace(tzinfo=UTC)
    if stop <= start:
        raise InvalidInput("start_date must be before end_date", field="start_date")
    if stop - start > timedelta(days=1):
        raise InvalidInput("an hourly range spans at most one day", field="end_date")
    return start, stop
