"""Services of a service profile, its data limits and SMS limits, and endpoints' temporary
data-limit extensions. This module stores the configuration; ``linkplane.access`` enforces it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.profiles.models import ServiceProfile
from linkplane.tenancy.principal import Principal
from linkplane.tenancy.scope import get_scoped
from linkplane.trafficlimits.catalogue import (
    DEFAULT_SERVICES,
    PeriodId,
    ServiceId,
    SmsLimit,
    service,
    sms_limit,
)
from linkplane.trafficlimits.models import (
    DataLimit,
    ProfileService,
    SmsLimitAssignment,
)
from linkplane.trafficlimits.schemas import DataLimitIn


def _profile(session: Session, org_id: int, profile_id: int) -> ServiceProfile:
    return get_scoped(
        session, ServiceProfile, org_id, profile_id, what="service profile", field="profile_id"
    )


def _record(
    session: Session, profile: ServiceProfile, what: str, principal: Principal | None
) -> None:
    record(
        session=session,
        org_id=profile.org_id,
        event_type="Service profile updated",
        description=f"service profile {profile.name!r}: {what}",
        principal=principal,
        entity_type="service_profile",
        entity_id=profile.id,
    )


# --- services -------------------------------------------------------------------------------


def add_default_services(*, session: Session, profile: ServiceProfile) -> None:
    """Give a new profile SMS MT, SMS MO and Data (what emnify profiles start with)."""
    for service_id in DEFAULT_SERVICES:
        session.add(
            ProfileService(
                service_profile_id=profile.id, service_id=int(service_id), org_id=profile.org_id
            )
        )


def services_of(*, session: Session, profile_ids: list[int]) -> dict[int, list[int]]:
    """Service ids per profile, ascending, in one query."""
    found: dict[int, list[int]] = {pid: [] for pid in profile_ids}
    if not profile_ids:
        return found
    stmt = select(ProfileService.service_profile_id, ProfileService.service_id).where(
        ProfileService.service_profile_id.in_(profile_ids)
    )
    for pid, sid in session.execute(stmt.order_by(ProfileService.service_id)):
        found[pid].append(sid)
    return found


def has_service(*, session: Session, profile_id: int, service_id: ServiceId) -> bool:
    return session.get(ProfileService, (profile_id, int(service_id))) is not None


def _known_service(service_id: int) -> None:
    if service(service_id) is None:
        raise NotFound(
            f"service {service_id} not found (GET /api/v1/service lists them)",
            field="service_id",
        )


def add_service(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    service_id: int,
    principal: Principal | None = None,
) -> None:
    profile = _profile(session, org_id, profile_id)
    _known_service(service_id)
    if session.get(ProfileService, (profile_id, service_id)) is not None:
        raise Conflict(
            f"service {service_id} is already on service profile {profile_id}", field="service_id"
        )
    session.add(ProfileService(service_profile_id=profile_id, service_id=service_id, org_id=org_id))
    _record(session, profile, f"service {service_id} added", principal)


def _limits_of_service(session: Session, profile_id: int, service_id: int) -> int:
    data = (
        select(func.count())
        .select_from(DataLimit)
        .where(DataLimit.service_profile_id == profile_id, DataLimit.service_id == service_id)
    )
    sms = (
        select(func.count())
        .select_from(SmsLimitAssignment)
        .where(
            SmsLimitAssignment.service_profile_id == profile_id,
            SmsLimitAssignment.service_id == service_id,
        )
    )
    return int(session.scalar(data) or 0) + int(session.scalar(sms) or 0)


def remove_service(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    service_id: int,
    principal: Principal | None = None,
) -> None:
    """Remove a service without traffic limits (emnify: 409 while it has any)."""
    profile = _profile(session, org_id, profile_id)
    row = session.get(ProfileService, (profile_id, service_id))
    if row is None:
        raise NotFound(
            f"service {service_id} is not on service profile {profile_id}", field="service_id"
        )
    if _limits_of_service(session, profile_id, service_id):
        raise Conflict(
            f"service {service_id} still has traffic limits on service profile {profile_id}: "
            "remove them first",
            field="service_id",
        )
    session.delete(row)
    _record(session, profile, f"service {service_id} removed", principal)


# --- data limits (per calendar month) ------------------------------------------------------


def list_data_limits(*, session: Session, org_id: int, profile_id: int) -> list[DataLimit]:
    _profile(session, org_id, profile_id)
    return data_limits_for(session=session, profile_id=profile_id, include_satellite=True)


def data_limits_for(
    *, session: Session, profile_id: int, include_satellite: bool = False
) -> list[DataLimit]:
    stmt = select(DataLimit).where(DataLimit.service_profile_id == profile_id)
    if not include_satellite:
        stmt = stmt.where(DataLimit.satellite_only.is_(False))
    return list(session.scalars(stmt.order_by(DataLimit.id)))


def add_data_limit(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    data: DataLimitIn,
    principal: Principal | None = None,
) -> DataLimit:
    profile = _profile(session, org_id, profile_id)
    if data.service.id != ServiceId.DATA:
        raise InvalidInput("the only service a data limit takes is 38 (Data)", field="service.id")
    period = data.period.id if data.period else PeriodId.MONTH
    if period != PeriodId.MONTH:
        raise InvalidInput("the only period a data limit takes is 2 (Monthly)", field="period.id")
    if not has_service(session=session, profile_id=profile_id, service_id=ServiceId.DATA):
        raise InvalidInput(
            f"service profile {profile_id} does not offer Data: "
            f"PUT /api/v1/service_profile/{profile_id}/service/38 first",
            field="service.id",
        )
    if any(
        lim.satellite_only == data.satellite_only
        for lim in data_limits_for(session=session, profile_id=profile_id, include_satellite=True)
    ):
        raise Conflict(
            "a data limit for this service and RAT kind already exists: delete it first",
            field="satellite_only",
        )
    limit = DataLimit(
        org_id=org_id,
        service_profile_id=profile_id,
        service_id=int(ServiceId.DATA),
        satellite_only=data.satellite_only,
        period_id=int(period),
        volume=data.volume,
        warning_percent=data.warning_percent,
    )
    session.add(limit)
    session.flush()
    _record(
        session, profile, f"data limit {limit.id} of {limit.volume} bytes a month added", principal
    )
    return limit


def delete_data_limits(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    limit_id: int | None = None,
    principal: Principal | None = None,
) -> None:
    """Delete one data limit (404 when it is not the profile's) or, without ``limit_id``, all."""
    profile = _profile(session, org_id, profile_id)
    stmt = delete(DataLimit).where(DataLimit.service_profile_id == profile_id)
    if limit_id is not None:
        limit = session.get(DataLimit, limit_id)
        if limit is None or limit.service_profile_id != profile_id:
            raise NotFound(
                f"data limit {limit_id} not found on service profile {profile_id}", field="limit_id"
            )
        stmt = stmt.where(DataLimit.id == limit_id)
    session.execute(stmt)
    what = f"data limit {limit_id} deleted" if limit_id else "all data limits deleted"
    _record(session, profile, what, principal)


# --- predefined SMS limits ------------------------------------------------------------------


def sms_limits_of(
    *, session: Session, profile_ids: list[int]
) -> dict[tuple[int, int], list[SmsLimit]]:
    """Assigned SMS limits per (profile, service)."""
    found: dict[tuple[int, int], list[SmsLimit]] = {}
    if not profile_ids:
        return found
    stmt = select(SmsLimitAssignment).where(SmsLimitAssignment.service_profile_id.in_(profile_ids))
    for row in session.scalars(stmt.order_by(SmsLimitAssignment.limit_id)):
        limit = sms_limit(row.limit_id)
        if limit is not None:
            found.setdefault((row.service_profile_id, row.service_id), []).append(limit)
    return found


def assign_sms_limit(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    service_id: int,
    limit_id: int,
    principal: Principal | None = None,
) -> None:
    profile = _profile(session, org_id, profile_id)
    limit = sms_limit(limit_id)
    if limit is None or limit.service_id != service_id:
        raise NotFound(
            f"SMS limit {limit_id} not found for service {service_id} "
            f"(GET /api/v1/service/{service_id}/traffic_limit lists them)",
            field="limit_id",
        )
    if session.get(ProfileService, (profile_id, service_id)) is None:
        raise InvalidInput(
            f"service {service_id} is not on service profile {profile_id}: "
            f"PUT /api/v1/service_profile/{profile_id}/service/{service_id} "
            "first",
            field="service_id",
        )
    if session.get(SmsLimitAssignment, (profile_id, service_id, limit_id)) is None:
        session.add(
            SmsLimitAssignment(
                service_profile_id=profile_id,
                service_id=service_id,
                limit_id=limit_id,
                org_id=org_id,
            )
        )
        _record(session, profile, f"SMS limit {limit_id} added to service {service_id}", principal)


def unassign_sms_limit(
    *,
    session: Session,
    org_id: int,
    profile_id: int,
    service_id: int,
    limit_id: int,
    principal: Principal | None = None,
) -> None:
    profile = _profile(session, org_id, profile_id)
    row = session.get(SmsLimitAssignment, (profile_id, service_id, limit_id))
    if row is None:
        raise NotFound(
            f"SMS limit {limit_id} is not assigned to service {service_id} of "
            f"service profile {profile_id}",
            field="limit_id",
        )
    session.delete(row)
    _record(session, profile, f"SMS limit {limit_id} removed from service {service_id}", principal)
