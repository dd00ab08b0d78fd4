"""Data usage: recording the mobile core's daily records and the questions asked of them.

Records accumulate: each delivered record adds its bytes to the (endpoint, day) row, as
CDRs are increments of a day's traffic. A delivery with any bad row stores nothing.
Days are UTC calendar days; a "month" is a UTC calendar month.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.devices.models import Endpoint
from linkplane.errors import InvalidInput
from linkplane.sims.importer import luhn_digit
from linkplane.sims.models import Sim
from linkplane.tenancy.scope import get_scoped, scoped
from linkplane.usage.models import UsageHour, UsageRecord

MB = 1_000_000
#: A petabyte per device and day is a unit mistake in the file, not traffic.
MAX_BYTES = 10**15
MAX_DAYS = 366
MAX_REPORTED = 50
_CHUNK = 500


@dataclass(frozen=True)
class UsageIn:
    """One delivered record: the endpoint by id or by its SIM's ICCID, a day, its bytes."""

    day: date
    bytes_tx: int
    bytes_rx: int
    endpoint_id: int | None = None
    iccid: str | None = None
    #: Where the record came from (a CSV line), so errors can point at it.
    line: int | None = None
    #: The UTC hour (0-23) of the day the traffic was in, when the record says so; only such
    #: records feed the hourly statistics.
    hour: int | None = None


@dataclass(frozen=True)
class Volume:
    tx: int = 0
    rx: int = 0

    @property
    def total(self) -> int:
        return self.tx + self.rx


@dataclass(frozen=True)
class DayVolume:
    day: date
    volume: Volume


@dataclass(frozen=True)
class MonthStats:
    current_start: date
    current: Volume
    last_start: date
    last: Volume


@dataclass(frozen=True)
class _Target:
    endpoint_id: int
    org_id: int
    sim_id: int | None


def today_utc() -> date:
    return utcnow().date()


# --- recording -----------------------------------------------------------------------------


def record_usage(
    *, session: Session, rows: Sequence[UsageIn], org_id: int | None = None,
    replace: bool = False,
) -> int:  # fmt: skip
    """Store ``rows`` all or nothing; the number of (endpoint, day) rows written.

    ``org_id`` None is the provider's side: each record's organisation is its endpoint's.
    With ``org_id`` every endpoint must belong to it (others read as unknown). ``replace``
    sets a day's volumes instead of adding to them (a re-delivered day, a re-run simulation).
    """
    if not rows:
        raise InvalidInput("no usage records given", field="rows")
    targets = _resolve(session, rows, org_id)
    merged = _merge(rows, targets)
    _upsert(session, UsageRecord, UsageRecord.day, merged, replace=replace)
    hours = _merge_hours(rows, targets)
    _upsert(session, UsageHour, UsageHour.hour, hours, replace=replace)
    return len(merged)


def _start_of(row: UsageIn) -> datetime:
    return datetime(row.day.year, row.day.month, row.day.day, row.hour or 0, tzinfo=UTC)


def _label(row: UsageIn, index: int) -> str:
    return f"line {row.line}" if row.line is not None else f"row {index + 1}"


def _value_errors(row: UsageIn, today: date) -> list[str]:
    errors = []
    for name in ("bytes_tx", "bytes_rx"):
        value = getattr(row, name)
        if not 0 <= value <= MAX_BYTES:
            errors.append(f"{name} {value} must be 0 to {MAX_BYTES}")
    if row.day > today:
        errors.append(f"date {row.day.isoformat()} is in the future")
    if row.hour is not None and not 0 <= row.hour <= 23:
        errors.append(f"hour {row.hour} must be 0 to 23")
    elif row.hour is not None and _start_of(row) > utcnow():
        errors.append(f"hour {row.hour} of {row.day.isoformat()} is in the future")
    if (row.endpoint_id is None) == (row.iccid is None):
        errors.append("give exactly one of endpoint_id and iccid")
    return errors


def _resolve(session: Session, rows: Sequence[UsageIn], org_id: int | None) -> list[_Target]:
    """Each row's endpoint, or InvalidInput listing every bad row by line."""
    by_id = _endpoints_by_id(session, {r.endpoint_id for r in rows if r.endpoint_id})
    by_iccid = _endpoints_by_iccid(session, {r.iccid for r in rows if r.iccid})
    today = today_utc()
    targets: list[_Target] = []
    problems: list[str] = []
    for index, row in enumerate(rows):
        errors = _value_errors(row, today)
        target = by_id.get(row.endpoint_id or 0) if row.endpoint_id else None
        if row.iccid is not None:
            target = by_iccid.get(row.iccid) or by_iccid.get(row.iccid[:19])
        if target is not None and org_id is not None and target.org_id != org_id:
            target = None  # another tenant's endpoint reads exactly like a missing one
        if target is None and not errors:
            errors.append(_unknown(row))
        if errors:
            problems.append(f"{_label(row, index)}: " + ", ".join(errors))
        elif target is not None:
            targets.append(target)
    if problems:
        raise _fail(problems)
    return targets


def _unknown(row: UsageIn) -> str:
    if row.iccid is not None:
        return f"iccid {row.iccid} is not the SIM of any endpoint"
    return f"endpoint {row.endpoint_id} not found"


def _fail(problems: list[str]) -> InvalidInput:
    shown = problems[:MAX_REPORTED]
    more = len(problems) - len(shown)
    tail = f"; and {more} more" if more else ""
    message = f"{len(problems)} bad row(s), nothing stored: " + "; ".join(shown) + tail
    return InvalidInput(message, field="rows")


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    # Bounded IN lists and VALUES: SQLite caps bound parameters per statement.
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _endpoints_by_id(session: Session, ids: set[int | None]) -> dict[int, _Target]:
    found: dict[int, _Target] = {}
    for chunk in _chunks(sorted(i for i in ids if i is not None)):
        stmt = select(Endpoint.id, Endpoint.org_id, Endpoint.sim_id).where(Endpoint.id.in_(chunk))
        for ep_id, org, sim_id in session.execute(stmt):
            found[ep_id] = _Target(ep_id, org, sim_id)
    return found


def _iccid_keys(iccid: str) -> list[str]:
    """Stored SIMs may carry 19 digits (no check digit) or 20; a record may give either."""
    keys = [iccid]
    if not (iccid.isascii() and iccid.isdigit()):
        return keys
    if len(iccid) == 20 and luhn_digit(iccid[:19]) == iccid[19]:
        keys.append(iccid[:19])
    elif len(iccid) == 19:
        keys.append(iccid + luhn_digit(iccid))
    return keys


def _endpoints_by_iccid(session: Session, iccids: set[str | None]) -> dict[str, _Target]:
    keys = sorted({k for i in iccids if i for k in _iccid_keys(i)})
    found: dict[str, _Target] = {}
    for chunk in _chunks(keys):
        stmt = (
            select(Sim.iccid, Endpoint.id, Endpoint.org_id, Sim.id)
            .join(Endpoint, Endpoint.sim_id == Sim.id)
            .where(Sim.iccid.in_(chunk))
        )
        for iccid, ep_id, org, sim_id in session.execute(stmt):
            for key in _iccid_keys(iccid):
                found[key] = _Target(ep_id, org, sim_id)
    return found


def _merge(rows: Sequence[UsageIn], targets: list[_Target]) -> list[dict[str, Any]]:
    """One value row per (endpoint, day): one statement must not touch a row twice."""
    merged: dict[tuple[int, date], dict[str, Any]] = {}
    now = utcnow()
    for row, target in zip(rows, targets, strict=True):
        key = (target.endpoint_id, row.day)
        acc = merged.setdefault(key, {
            "org_id": target.org_id, "endpoint_id": target.endpoint_id,
            "sim_id": target.sim_id, "day": row.day, "bytes_tx": 0, "bytes_rx": 0,
            "updated": now,
        })  # fmt: skip
        acc["bytes_tx"] += row.bytes_tx
        acc["bytes_rx"] += row.bytes_rx
    return list(merged.values())


def _merge_hours(rows: Sequence[UsageIn], targets: list[_Target]) -> list[dict[str, Any]]:
    """One value row per (endpoint, hour) of the records that give an hour."""
    merged: dict[tuple[int, datetime], dict[str, Any]] = {}
    now = utcnow()
    for row, target in zip(rows, targets, strict=True):
        if row.hour is None:
            continue
        hour = _start_of(row)
        acc = merged.setdefault((target.endpoint_id, hour), {
            "org_id": target.org_id, "endpoint_id": target.endpoint_id,
            "sim_id": target.sim_id, "hour": hour, "bytes_tx": 0, "bytes_rx": 0,
            "updated": now,
        })  # fmt: skip
        acc["bytes_tx"] += row.bytes_tx
        acc["bytes_rx"] += row.bytes_rx
    return list(merged.values())


def _upsert(
    session: Session, model: type[UsageRecord | UsageHour], when: Any,
    values: list[dict[str, Any]], *, replace: bool,
) -> None:  # fmt: skip
    """Add ``values`` to the (endpoint, ``when``) rows of ``model``, or set them."""
    # SQLite and PostgreSQL (the two supported databases) share ON CONFLICT DO UPDATE.
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    for chunk in _chunks(values):
        stmt = insert(model).values(list(chunk))
        new = stmt.excluded
        tx = new.bytes_tx if replace else model.bytes_tx + new.bytes_tx
        rx = new.bytes_rx if replace else model.bytes_rx + new.bytes_rx
        stmt = stmt.on_conflict_do_update(
            index_elements=[model.endpoint_id, when],
            set_={"bytes_tx": tx, "bytes_rx": rx, "updated": new.updated,
                  "sim_id": func.coalesce(new.sim_id, model.sim_id)},
        )  # fmt: skip
        session.execute(stmt)


# --- questions -----------------------------------------------------------------------------


def check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be 1 to {MAX_DAYS}, got {days}", field="days")


def _total() -> ColumnElement[int]:
    return func.coalesce(func.sum(UsageRecord.bytes_tx + UsageRecord.bytes_rx), 0)


def daily_usage(
    *, session: Session, org_id: int, days: int, today: date | None = None
) -> list[tuple[date, int]]:
    """Bytes per day of the organisation for the last ``days`` days up to today, oldest
    first; days without records are 0."""
    check_days(days)
    end = today or today_utc()
    start = end - timedelta(days=days - 1)
    stmt = scoped(select(UsageRecord.day, _total()), org_id, UsageRecord)
    stmt = stmt.where(UsageRecord.day.between(start, end)).group_by(UsageRecord.day)
    found = {day: int(total) for day, total in session.execute(stmt)}
    every = (start + timedelta(days=i) for i in range(days))
    return [(day, found.get(day, 0)) for day in every]


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month_start(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def monthly_usage(
    *, session: Session, org_id: int, endpoint_ids: Sequence[int], today: date | None = None
) -> dict[int, int]:
    """Bytes of the current UTC month per endpoint; endpoints without traffic (or of another
    organisation) are absent."""
    start = month_start(today or today_utc())
    usage: dict[int, int] = {}
    for chunk in _chunks(sorted(set(endpoint_ids))):
        stmt = scoped(select(UsageRecord.endpoint_id, _total()), org_id, UsageRecord)
        stmt = stmt.where(UsageRecord.endpoint_id.in_(chunk), UsageRecord.day >= start)
        for ep_id, total in session.execute(stmt.group_by(UsageRecord.endpoint_id)):
            if ep_id is not None and total:
                usage[ep_id] = int(total)
    return usage


def _volume(session: Session, org_id: int, *where: ColumnElement[bool]) -> Volume:
    tx = func.coalesce(func.sum(UsageRecord.bytes_tx), 0)
    rx = func.coalesce(func.sum(UsageRecord.bytes_rx), 0)
    row = session.execute(scoped(select(tx, rx), org_id, UsageRecord).where(*where)).one()
    return Volume(tx=int(row[0]), rx=int(row[1]))


def _months(session: Session, org_id: int, today: date, *where: ColumnElement[bool]) -> MonthStats:
    current, last = month_start(today), previous_month_start(today)
    day = UsageRecord.day
    return MonthStats(
        current_start=current,
        current=_volume(session, org_id, day >= current, day <= today, *where),
        last_start=last,
        last=_volume(session, org_id, day >= last, day < current, *where),
    )


def endpoint_stats(
    *, session: Session, org_id: int, endpoint_id: int, today: date | None = None
) -> MonthStats:
    """Current and last month of one endpoint of the organisation (else 404)."""
    get_scoped(session, Endpoint, org_id, endpoint_id, what="endpoint", field="endpoint_id")
    where = UsageRecord.endpoint_id == endpoint_id
    return _months(session, org_id, today or today_utc(), where)


def org_stats(*, session: Session, org_id: int, today: date | None = None) -> MonthStats:
    return _months(session, org_id, today or today_utc())


def day_volumes(session: Session, org_id: int, start: date, end: date,
          *where: ColumnElement[bool]) -> list[DayVolume]:  # fmt: skip
    stmt = scoped(
        select(UsageRecord.day, func.sum(UsageRecord.bytes_tx), func.sum(UsageRecord.bytes_rx)),
        org_id, UsageRecord,
    )  # fmt: skip
    stmt = stmt.where(UsageRecord.day.between(start, end), *where)
    rows = session.execute(stmt.group_by(UsageRecord.day).order_by(UsageRecord.day))
    return [DayVolume(day, Volume(int(tx), int(rx))) for day, tx, rx in rows if tx or rx]


def endpoint_daily(
    *, session: Session, org_id: int, endpoint_id: int, start: date, end: date
) -> list[DayVolume]:
    """Days with traffic of one endpoint of the organisation (else 404), ``start..end``."""
    get_scoped(session, Endpoint, org_id, endpoint_id, what="endpoint", field="endpoint_id")
    return day_volumes(session, org_id, start, end, UsageRecord.endpoint_id == endpoint_id)


def org_daily(*, session: Session, org_id: int, start: date, end: date) -> list[DayVolume]:
    """Days with traffic of the organisation, ``start..end`` inclusive."""
    return day_volumes(session, org_id, start, end)


# --- date ranges of the daily routes (emnify's defaults, written once) ---------------------


def _check_range(start: date, end: date) -> tuple[date, date]:
    if start > end:
        raise InvalidInput("start_date must not be after end_date", field="start_date")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"a range spans at most {MAX_DAYS} days", field="end_date")
    return start, end


def _month_end(day: date) -> date:
    return month_start(month_start(day) + timedelta(days=32)) - timedelta(days=1)


def endpoint_range(
    start: date | None, end: date | None, today: date | None = None
) -> tuple[date, date]:
    """Inclusive days: default the current month; only ``end`` -> that month up to it;
    only ``start`` -> from it up to today."""
    now = today or today_utc()
    if start is None and end is None:
        return month_start(now), now
    if start is None:
        assert end is not None
        return _check_range(month_start(end), end)
    return _check_range(start, end if end is not None else now)


def org_range(start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    """Inclusive days: default the current month; ``end_date`` is exclusive in emnify's
    organisation route and needs ``start_date``; only ``start`` -> to the end of its month."""
    now = today or today_utc()
    if start is None:
        if end is not None:
            raise InvalidInput("end_date must be used with start_date", field="end_date")
        return month_start(now), now
    if end is None:
        return _check_range(start, _month_end(start))
    return _check_range(start, end - timedelta(days=1))
