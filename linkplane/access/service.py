"""How much data a device may move now, and charging what it moved.

The service profile must offer Data (service 38); with ``apply_data_quota`` the endpoint
needs an ACTIVE, unexpired data quota with volume left (none at all: blocked, as emnify);
every monthly data limit of the profile, raised by the endpoint's unexpired extensions, caps
the calendar month's traffic. (SMS have their own rules: ``linkplane.sms.admission``.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.devices.models import Endpoint
from linkplane.events.service import record
from linkplane.profiles.models import ServiceProfile
from linkplane.quotas import service as quotas
from linkplane.quotas.models import EndpointQuota, QuotaKind, QuotaStatus
from linkplane.trafficlimits import extensions
from linkplane.trafficlimits import service as limits
from linkplane.trafficlimits.catalogue import ServiceId
from linkplane.trafficlimits.models import DataLimit
from linkplane.usage.models import UsageRecord

_CHUNK = 500


@dataclass(frozen=True)
class DataDemand:
    """Bytes a device wants to move on a day (an increment, not a day's total)."""

    endpoint_id: int
    day: date
    tx: int
    rx: int


@dataclass(frozen=True)
class Grant:
    tx: int
    rx: int


@dataclass(frozen=True)
class Refusal:
    endpoint_id: int
    refused_bytes: int
    reason: str


@dataclass
class _Subject:
    """One endpoint's data policy, loaded once per batch; month usage as charged so far."""

    endpoint: Endpoint
    profile: ServiceProfile
    services: set[int]
    quota: EndpointQuota | None
    data_limits: list[DataLimit]
    extensions: dict[int, int] = field(default_factory=dict)
    used: dict[date, int] = field(default_factory=dict)


def month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (month_start(day) + timedelta(days=32)).replace(day=1)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _load(
    session: Session, endpoint_ids: Sequence[int], now: datetime, *, lock: bool
) -> dict[int, _Subject]:
    """Each endpoint with its profile, services, data quota, limits and extensions, in a few
    queries for the whole batch (an import may touch thousands of endpoints).

    With ``lock`` the endpoint rows are locked (PostgreSQL ``FOR UPDATE``, ascending ids, so
    two deliveries never deadlock) before their quotas and usage are read: concurrent
    imports of one endpoint are admitted one after the other, never both against the same
    remaining volume. SQLite has one writer at a time anyway."""
    subjects: dict[int, _Subject] = {}
    for chunk in _chunks(sorted(set(endpoint_ids))):
        stmt = (
            select(Endpoint, ServiceProfile)
            .join(ServiceProfile, ServiceProfile.id == Endpoint.service_profile_id)
            .where(Endpoint.id.in_(chunk))
            .order_by(Endpoint.id)
        )
        if lock:
            stmt = stmt.with_for_update(of=Endpoint)
        for ep, profile in session.execute(stmt):
            subjects[ep.id] = _Subject(ep, profile, set(), None, [])
        q = select(EndpointQuota).where(
            EndpointQuota.endpoint_id.in_(chunk), EndpointQuota.kind == QuotaKind.DATA.value
        )
        for quota in session.scalars(q):
            subjects[quota.endpoint_id].quota = quota
    profile_ids = sorted({s.profile.id for s in subjects.values()})
    services = limits.services_of(session=session, profile_ids=profile_ids)
    by_profile = {
        pid: limits.data_limits_for(session=session, profile_id=pid) for pid in profile_ids
    }
    for s in subjects.values():
        s.services = set(services.get(s.profile.id, []))
        s.data_limits = by_profile.get(s.profile.id, [])
        for lim in s.data_limits:
            s.extensions[lim.id] = extensions.extension_bytes(
                session=session, endpoint_id=s.endpoint.id, limit_id=lim.id, now=now
            )
    return subjects


def _month_used(session: Session, s: _Subject, month: date) -> int:
    if month not in s.used:
        stmt = select(func.coalesce(func.sum(UsageRecord.bytes_tx + UsageRecord.bytes_rx), 0))
        stmt = stmt.where(
            UsageRecord.endpoint_id == s.endpoint.id,
            UsageRecord.day >= month,
            UsageRecord.day < _next_month(month),
        )
        s.used[month] = int(session.scalar(stmt) or 0)
    return s.used[month]


def _quota_cap(session: Session, s: _Subject, now: datetime) -> tuple[int | None, str]:
    if not s.profile.apply_data_quota:
        return None, ""
    if s.quota is None:
        return 0, "no data quota is set and its service profile applies data quotas"
    quotas.refresh(session=session, quota=s.quota, endpoint=s.endpoint, now=now)
    left = quotas.available(s.quota)
    status = QuotaStatus(s.quota.status).name
    return left, f"its data quota is {'used up' if status == 'ACTIVE' else status}"


def _allowance(session: Session, s: _Subject, day: date, now: datetime) -> tuple[int | None, str]:
    """Bytes the endpoint may still move on ``day`` (None: no cap) and what would cap it."""
    if ServiceId.DATA not in s.services:
        return 0, "its service profile does not offer Data (service 38)"
    caps: list[tuple[int, str]] = []
    left, why = _quota_cap(session, s, now)
    if left is not None:
        caps.append((left, why))
    for lim in s.data_limits:
        total = lim.volume + s.extensions.get(lim.id, 0)
        used = _month_used(session, s, month_start(day))
        caps.append((max(0, total - used), f"its monthly data limit {lim.id} is reached"))
    return min(caps) if caps else (None, "")


def _limit_events(session: Session, s: _Subject, before: int, after: int) -> None:
    for lim in s.data_limits:
        total = lim.volume + s.extensions.get(lim.id, 0)
        warn = total * (lim.warning_percent or 0) // 100
        if lim.warning_percent and before < warn <= after < total:
            _event(
                session,
                s.endpoint,
                "Traffic limit warning",
                f"endpoint {s.endpoint.name!r} used {lim.warning_percent}% of its monthly "
                f"data limit {lim.id}",
                {"traffic_limit_id": lim.id, "used": after},
            )
        if before < total <= after:
            _event(
                session,
                s.endpoint,
                "Traffic limit reached",
                f"endpoint {s.endpoint.name!r} reached its monthly data limit {lim.id} "
                f"({total} bytes): data blocked until the month ends or the limit is "
                "extended",
                {"traffic_limit_id": lim.id, "used": after},
            )


def _charge(session: Session, s: _Subject, day: date, amount: int, now: datetime) -> None:
    if amount <= 0:
        return
    if s.profile.apply_data_quota and s.quota is not None:
        quotas.charge(session=session, quota=s.quota, endpoint=s.endpoint, amount=amount, now=now)
    month = month_start(day)
    before = _month_used(session, s, month)
    s.used[month] = before + amount
    _limit_events(session, s, before, before + amount)


def _split(demand: DataDemand, granted: int) -> Grant:
    want = demand.tx + demand.rx
    if granted >= want:
        return Grant(demand.tx, demand.rx)
    tx = granted * demand.tx // want if want else 0
    return Grant(tx, granted - tx)


def admit_data(
    *, session: Session, demands: Sequence[DataDemand], now: datetime
) -> tuple[list[Grant], list[Refusal]]:
    """What of each demand the network lets through (in order of the demands), charging it,
    and per endpoint what was refused and why (also recorded as a "Usage refused" event).
    Days of one endpoint are admitted oldest first."""
    subjects = _load(session, [d.endpoint_id for d in demands], now, lock=True)
    grants: list[Grant] = [Grant(0, 0)] * len(demands)
    refused: dict[int, tuple[int, str]] = {}
    for i in sorted(range(len(demands)), key=lambda i: (demands[i].endpoint_id, demands[i].day)):
        d, s = demands[i], subjects[demands[i].endpoint_id]
        want = d.tx + d.rx
        if want <= 0:
            continue
        cap, why = _allowance(session, s, d.day, now)
        got = want if cap is None else min(want, cap)
        _charge(session, s, d.day, got, now)
        grants[i] = _split(d, got)
        if got < want:
            total, _ = refused.get(d.endpoint_id, (0, why))
            refused[d.endpoint_id] = (total + want - got, why)
    result = [Refusal(ep, n, why) for ep, (n, why) in sorted(refused.items())]
    for r in result:
        ep = subjects[r.endpoint_id].endpoint
        _event(
            session,
            ep,
            "Usage refused",
            f"{r.refused_bytes} bytes of endpoint {ep.name!r} refused: {r.reason}",
            {"refused_bytes": r.refused_bytes, "reason": r.reason},
        )
    return grants, result


def data_block_reason(*, session: Session, endpoint: Endpoint, now: datetime) -> str | None:
    """Why the endpoint may move no data at all today, or None (connectivity's BLOCKED)."""
    s = _load(session, [endpoint.id], now, lock=False)[endpoint.id]
    cap, why = _allowance(session, s, now.date(), now)
    return why if cap == 0 else None


def _event(
    session: Session, endpoint: Endpoint, event_type: str, text: str, detail: dict[str, object]
) -> None:
    record(
        session=session,
        org_id=endpoint.org_id,
        event_type=event_type,
        description=text,
        entity_type="endpoint",
        entity_id=endpoint.id,
        severity=1,
        source="policy",
        actor="system",
        detail=detail,
    )
