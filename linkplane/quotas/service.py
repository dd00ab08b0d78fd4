"""Endpoint data and SMS quotas: set, read, delete, and the accounting the network
simulators (``linkplane.access``) charge against them.

A quota's state changes lazily, when it is read or charged: past its expiry it is EXPIRED;
with ``auto_refill`` each new UTC day restores the last volume added (an EXHAUSTED quota
becomes ACTIVE again; an EXPIRED one stays expired). Every change of state is an event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.devices import service as devices
from linkplane.devices.models import Endpoint
from linkplane.errors import InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.profiles import service as profiles
from linkplane.quotas.models import BLOCK, UNIT, EndpointQuota, QuotaKind, QuotaStatus
from linkplane.quotas.schemas import QuotaIn
from linkplane.tenancy.principal import Principal

LABEL = {QuotaKind.DATA: "data quota", QuotaKind.SMS: "SMS quota"}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def find(*, session: Session, endpoint_id: int, kind: QuotaKind) -> EndpointQuota | None:
    stmt = select(EndpointQuota).where(
        EndpointQuota.endpoint_id == endpoint_id, EndpointQuota.kind == kind.value
    )
    return session.scalars(stmt).first()


def get(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    kind: QuotaKind,
    now: datetime | None = None,
) -> EndpointQuota:
    """The endpoint's quota, brought up to date (404 when none is set)."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    quota = find(session=session, endpoint_id=endpoint_id, kind=kind)
    if quota is None:
        raise NotFound(f"endpoint {endpoint_id} has no {LABEL[kind]}", field="endpoint_id")
    refresh(session=session, quota=quota, endpoint=endpoint, now=now or utcnow())
    return quota


def _units(kind: QuotaKind, volume: float, field: str) -> int:
    units = round(volume * UNIT[kind])
    if kind is QuotaKind.SMS and units != volume:
        raise InvalidInput(f"an SMS quota counts whole SMS, got {volume}", field=field)
    return int(units)


def _checked(data: QuotaIn, now: datetime) -> tuple[QuotaStatus, datetime]:
    try:
        status = QuotaStatus(data.status.id)
    except ValueError:
        raise InvalidInput(
            "status.id must be 1 (ACTIVE), 2 (EXHAUSTED) or 3 (EXPIRED)", field="status.id"
        ) from None
    expiry = _aware(data.expiry_date)
    if expiry <= now:
        raise InvalidInput("expiry_date must be in the future", field="expiry_date")
    action = data.action_on_exhaustion.id if data.action_on_exhaustion else BLOCK
    if action != BLOCK:
        raise InvalidInput(
            "action_on_exhaustion.id must be 1 (Block): emnify decommissioned 2 (Throttle) "
            "on 2024-12-09",
            field="action_on_exhaustion.id",
        )
    return status, expiry


def _threshold(data: QuotaIn) -> float | None:
    if data.threshold_percentage is not None:
        return data.threshold_percentage
    if data.threshold_volume is not None and data.volume > 0:
        return min(100.0, 100.0 * data.threshold_volume / data.volume)
    return None


def set_quota(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    kind: QuotaKind,
    data: QuotaIn,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> EndpointQuota:
    """Replace the endpoint's quota: the new volume is what is left from now on (emnify's
    top-up is "read what is left, add, set")."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    when = now or utcnow()
    status, expiry = _checked(data, when)
    units = _units(kind, data.volume, "volume")
    quota = find(session=session, endpoint_id=endpoint_id, kind=kind) or EndpointQuota(
        org_id=org_id, endpoint_id=endpoint_id, kind=kind.value
    )
    quota.status, quota.remaining, quota.last_volume_added = int(status), units, units
    quota.expiry_date, quota.auto_refill = expiry, bool(data.auto_refill)
    quota.threshold_percentage, quota.action_on_exhaustion = _threshold(data), BLOCK
    quota.last_status_change_date, quota.refilled_on = when, when.date()
    quota.threshold_reached = False
    session.add(quota)
    session.flush()
    _event(
        session,
        endpoint,
        quota,
        "Quota updated",
        f"{LABEL[kind]} of endpoint {endpoint.name!r} set to {data.volume:g} "
        f"{_unit_name(kind)}, {status.name}, until {expiry.isoformat()}",
        principal,
    )
    return quota


def delete_quota(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    kind: QuotaKind,
    principal: Principal | None = None,
) -> None:
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    quota = find(session=session, endpoint_id=endpoint_id, kind=kind)
    if quota is None:
        raise NotFound(f"endpoint {endpoint_id} has no {LABEL[kind]}", field="endpoint_id")
    session.delete(quota)
    _event(
        session,
        endpoint,
        quota,
        "Quota updated",
        f"{LABEL[kind]} of endpoint {endpoint.name!r} deleted",
        principal,
    )


def delete_for_profile(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    kind: QuotaKind,
    principal: Principal | None = None,
) -> int:
    """Delete the quotas of every endpoint of the service profile; how many were deleted."""
    profile = profiles.get_service_profile(session=session, org_id=org_id, profile_id=profile_id)
    ids = select(Endpoint.id).where(
        Endpoint.org_id == org_id, Endpoint.service_profile_id == profile.id
    )
    result = session.execute(
        delete(EndpointQuota).where(
            EndpointQuota.endpoint_id.in_(ids), EndpointQuota.kind == kind.value
        )
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    record(
        session=session,
        org_id=org_id,
        event_type="Quota updated",
        description=f"{LABEL[kind]}s of the {count} endpoint(s) of service profile "
        f"{profile.name!r} deleted",
        principal=principal,
        entity_type="service_profile",
        entity_id=profile.id,
    )
    return count


# --- accounting -------------------------------------------------------------------------------


def refresh(*, session: Session, quota: EndpointQuota, endpoint: Endpoint, now: datetime) -> None:
    """Apply expiry and the daily auto-refill that became due (each change an event)."""
    if quota.status != QuotaStatus.EXPIRED and now >= quota.expiry_date:
        _transition(
            session,
            quota,
            endpoint,
            QuotaStatus.EXPIRED,
            now,
            "Quota expired",
            f"{_label(quota)} of endpoint {endpoint.name!r} expired",
        )
        return
    if not quota.auto_refill or quota.refilled_on >= now.date():
        return
    quota.refilled_on, quota.remaining, quota.threshold_reached = (
        now.date(),
        quota.last_volume_added,
        False,
    )
    if quota.status == QuotaStatus.EXHAUSTED:
        _transition(
            session,
            quota,
            endpoint,
            QuotaStatus.ACTIVE,
            now,
            "Quota updated",
            f"{_label(quota)} of endpoint {endpoint.name!r} refilled",
        )


def available(quota: EndpointQuota) -> int:
    """What the quota still lets through (call :func:`refresh` first)."""
    return quota.remaining if quota.status == QuotaStatus.ACTIVE else 0


def charge(
    *, session: Session, quota: EndpointQuota, endpoint: Endpoint, amount: int, now: datetime
) -> None:
    """Take ``amount`` (at most :func:`available`) from the quota; events for the threshold
    and for exhaustion (emnify's "Quota used up", the device is blocked from then on)."""
    if amount <= 0:
        return
    quota.remaining = max(0, quota.remaining - amount)
    pct = quota.threshold_percentage
    limit = (pct or 0) / 100 * quota.last_volume_added
    if pct is not None and not quota.threshold_reached and 0 < quota.remaining <= limit:
        quota.threshold_reached = True
        _event(
            session,
            endpoint,
            quota,
            "Quota threshold reached",
            f"{_label(quota)} of endpoint {endpoint.name!r} is down to {pct:g}% or less",
            None,
            severity=1,
        )
    if quota.remaining == 0:
        _transition(
            session,
            quota,
            endpoint,
            QuotaStatus.EXHAUSTED,
            now,
            "Quota used up",
            f"{_label(quota)} of endpoint {endpoint.name!r} used up: blocked until "
            "a new quota is set",
        )


def _transition(
    session: Session,
    quota: EndpointQuota,
    endpoint: Endpoint,
    status: QuotaStatus,
    now: datetime,
    event_type: str,
    text: str,
) -> None:
    quota.status, quota.last_status_change_date = int(status), now
    severity = 0 if status == QuotaStatus.ACTIVE else 1
    _event(session, endpoint, quota, event_type, text, None, severity=severity)


def _label(quota: EndpointQuota) -> str:
    return LABEL[QuotaKind(quota.kind)]


def _unit_name(kind: QuotaKind) -> str:
    return "MB" if kind is QuotaKind.DATA else "SMS"


def _event(
    session: Session,
    endpoint: Endpoint,
    quota: EndpointQuota,
    event_type: str,
    text: str,
    principal: Principal | None,
    severity: int = 0,
) -> None:
    record(
        session=session,
        org_id=endpoint.org_id,
        event_type=event_type,
        description=text,
        principal=principal,
        entity_type="endpoint",
        entity_id=endpoint.id,
        severity=severity,
        source="api" if principal else "policy",
        detail={"quota": snapshot(quota)},
    )


def snapshot(quota: EndpointQuota) -> dict[str, Any]:
    """The quota as its events carry it (emnify includes the quota object in them)."""
    kind = QuotaKind(quota.kind)
    return {
        "kind": kind.value,
        "status": QuotaStatus(quota.status).name,
        "volume": quota.remaining / UNIT[kind],
        "expiry_date": quota.expiry_date.isoformat(),
    }
