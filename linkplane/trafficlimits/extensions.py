"""Temporary traffic limit extensions of one endpoint: extra bytes on top of a monthly data
limit of its service profile, until that month ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.devices.models import Endpoint
from linkplane.errors import InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.tenancy.principal import Principal
from linkplane.tenancy.scope import get_scoped
from linkplane.trafficlimits.models import DataLimit, TrafficLimitExtension
from linkplane.trafficlimits.service import data_limits_for


def _endpoint(session: Session, org_id: int, endpoint_id: int) -> Endpoint:
    # Not devices.service: it depends on profiles, which depend on this module.
    return get_scoped(session, Endpoint, org_id, endpoint_id, what="endpoint", field="endpoint")


def period_end(now: datetime) -> datetime:
    """The first instant of the next calendar month (UTC): when a monthly limit resets."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def list_extensions(
    *, session: Session, org_id: int, endpoint_id: int, now: datetime | None = None
) -> list[TrafficLimitExtension]:
    """The endpoint's extensions that have not expired yet, oldest first."""
    _endpoint(session, org_id, endpoint_id)
    stmt = select(TrafficLimitExtension).where(
        TrafficLimitExtension.endpoint_id == endpoint_id,
        TrafficLimitExtension.expiration_date > (now or utcnow()),
    )
    return list(session.scalars(stmt.order_by(TrafficLimitExtension.id)))


def _limit_for(session: Session, endpoint: Endpoint, limit_id: int | None) -> DataLimit:
    limits = data_limits_for(session=session, profile_id=endpoint.service_profile_id)
    if limit_id is None:
        if not limits:
            raise InvalidInput(
                f"the endpoint's service profile {endpoint.service_profile_id} has no data "
                "limit to extend",
                field="traffic_limit_id",
            )
        return limits[0]
    for limit in limits:
        if limit.id == limit_id:
            return limit
    raise NotFound(
        f"data limit {limit_id} is not a limit of the endpoint's service profile",
        field="traffic_limit_id",
    )


def create_extension(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    volume: int,
    traffic_limit_id: int | None = None,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> TrafficLimitExtension:
    """Raise a data limit by ``volume`` bytes for this endpoint until the month ends."""
    endpoint = _endpoint(session, org_id, endpoint_id)
    limit = _limit_for(session, endpoint, traffic_limit_id)
    when = now or utcnow()
    ext = TrafficLimitExtension(
        org_id=org_id,
        endpoint_id=endpoint_id,
        traffic_limit_id=limit.id,
        volume=volume,
        expiration_date=period_end(when),
        created_at=when,
    )
    session.add(ext)
    session.flush()
    record(
        session=session,
        org_id=org_id,
        event_type="Traffic limit extended",
        description=f"data limit {limit.id} of endpoint {endpoint.name!r} raised by {volume} "
        f"bytes until {ext.expiration_date.date().isoformat()}",
        principal=principal,
        entity_type="endpoint",
        entity_id=endpoint_id,
        detail={"traffic_limit_id": limit.id, "volume": volume},
    )
    return ext


def delete_extensions(
    *, session: Session, org_id: int, endpoint_id: int, principal: Principal | None = None
) -> None:
    endpoint = _endpoint(session, org_id, endpoint_id)
    session.execute(
        delete(TrafficLimitExtension).where(TrafficLimitExtension.endpoint_id == endpoint_id)
    )
    record(
        session=session,
        org_id=org_id,
        event_type="Traffic limit extended",
        description=f"traffic limit extensions of endpoint {endpoint.name!r} removed",
        principal=principal,
        entity_type="endpoint",
        entity_id=endpoint_id,
    )


def extension_bytes(*, session: Session, endpoint_id: int, limit_id: int, now: datetime) -> int:
    """Bytes the endpoint's unexpired extensions add to ``limit_id``."""
    stmt = select(func.coalesce(func.sum(TrafficLimitExtension.volume), 0)).where(
        TrafficLimitExtension.endpoint_id == endpoint_id,
        TrafficLimitExtension.traffic_limit_id == limit_id,
        TrafficLimitExtension.expiration_date > now,
    )
    return int(session.scalar(stmt) or 0)
