"""HTTP routes of services, traffic limits and traffic limit extensions (thin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from linkplane.api.deps import PrincipalDep, SessionDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import no_content, set_location
from linkplane.errors import NotFound
from linkplane.trafficlimits import extensions, service
from linkplane.trafficlimits.catalogue import (
    PERIOD_UNIT,
    SERVICES,
    SMS_LIMITS,
    PeriodId,
    SmsLimit,
)
from linkplane.trafficlimits.catalogue import service as service_of
from linkplane.trafficlimits.models import DataLimit, TrafficLimitExtension
from linkplane.trafficlimits.schemas import (
    DataLimitIn,
    DataLimitRead,
    ExtensionIn,
    ExtensionRead,
    PeriodRead,
    ServiceRead,
    ServiceRef,
    SmsLimitRead,
    SmsLimitWithServiceRead,
    TrafficTypeRead,
)

router = APIRouter(prefix="/api/v1", tags=["traffic limits"])

PROFILE = "/service_profile/{profile_id}"
EXTENSIONS = "/endpoint/{endpoint_id}/traffic_limit_extension"


def period(period_id: int) -> PeriodRead:
    return PeriodRead(id=period_id, time_units=1, unit=PERIOD_UNIT[PeriodId(period_id)])


def sms_limit_read(limit: SmsLimit) -> SmsLimitRead:
    return SmsLimitRead(id=limit.id, volume=limit.volume, period=period(limit.period))


def _service_ref(service_id: int) -> ServiceRef:
    found = service_of(service_id)
    return ServiceRef(id=service_id, description=found.description if found else "Unknown")


def _data_limit(limit: DataLimit) -> DataLimitRead:
    return DataLimitRead(
        id=limit.id,
        service=_service_ref(limit.service_id),
        satellite_only=limit.satellite_only,
        period=period(limit.period_id),
        volume=limit.volume,
        warning_percent=limit.warning_percent,
    )


def _extension(ext: TrafficLimitExtension) -> ExtensionRead:
    return ExtensionRead(
        id=ext.id,
        endpoint_id=ext.endpoint_id,
        traffic_limit_id=ext.traffic_limit_id,
        volume=ext.volume,
        expiration_date=ext.expiration_date,
        created_at=ext.created_at,
    )


# --- look-ups ---------------------------------------------------------------------------------


@router.get("/service", response_model_exclude_none=True)
def list_services(_principal: PrincipalDep) -> list[ServiceRead]:
    return [
        ServiceRead(
            id=s.id,
            description=s.description,
            used_with_vlr=s.used_with_vlr,
            used_with_sgsn=s.used_with_sgsn,
            traffic_type=TrafficTypeRead(id=s.traffic_type[0], description=s.traffic_type[1])
            if s.traffic_type
            else None,
        )
        for s in SERVICES
    ]


@router.get("/service/{service_id}/traffic_limit")
def list_service_sms_limits(service_id: IdPath, _principal: PrincipalDep) -> list[SmsLimitRead]:
    if service_of(service_id) is None:
        raise NotFound(f"service {service_id} not found", field="service_id")
    return [sms_limit_read(limit) for limit in SMS_LIMITS if limit.service_id == service_id]


@router.get("/traffic_limit")
def list_sms_limits(_principal: PrincipalDep) -> list[SmsLimitWithServiceRead]:
    return [
        SmsLimitWithServiceRead(
            id=limit.id,
            volume=limit.volume,
            period=period(limit.period),
            service=_service_ref(limit.service_id),
        )
        for limit in SMS_LIMITS
    ]


# --- services of a profile and their SMS limits ----------------------------------------------


@router.put(PROFILE + "/service/{service_id}", status_code=204)
def add_service(
    profile_id: IdPath, service_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.add_service(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        service_id=service_id,
        principal=principal,
    )
    return no_content()


@router.delete(PROFILE + "/service/{service_id}", status_code=204)
def remove_service(
    profile_id: IdPath, service_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.remove_service(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        service_id=service_id,
        principal=principal,
    )
    return no_content()


@router.put(PROFILE + "/service/{service_id}/traffic_limit/{limit_id}")
def assign_sms_limit(
    profile_id: IdPath,
    service_id: IdPath,
    limit_id: IdPath,
    session: SessionDep,
    principal: WriterDep,
) -> dict[str, Any]:
    """200 with an empty object, as the reference declares."""
    service.assign_sms_limit(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        service_id=service_id,
        limit_id=limit_id,
        principal=principal,
    )
    return {}


@router.delete(PROFILE + "/service/{service_id}/traffic_limit/{limit_id}")
def unassign_sms_limit(
    profile_id: IdPath,
    service_id: IdPath,
    limit_id: IdPath,
    session: SessionDep,
    principal: WriterDep,
) -> dict[str, Any]:
    service.unassign_sms_limit(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        service_id=service_id,
        limit_id=limit_id,
        principal=principal,
    )
    return {}


# --- data limits -------------------------------------------------------------------------------


@router.get(PROFILE + "/traffic_limit", response_model_exclude_none=True)
def list_data_limits(
    profile_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[DataLimitRead]:
    limits = service.list_data_limits(
        session=session, org_id=principal.org_id, profile_id=profile_id
    )
    return [_data_limit(limit) for limit in limits]


@router.post(PROFILE + "/traffic_limit", status_code=201, response_model_exclude_none=True)
def add_data_limit(
    profile_id: IdPath,
    body: DataLimitIn,
    session: SessionDep,
    principal: WriterDep,
    request: Request,
    response: Response,
) -> DataLimitRead:
    limit = service.add_data_limit(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        data=body,
        principal=principal,
    )
    set_location(
        response, request, f"/api/v1/service_profile/{profile_id}/traffic_limit/{limit.id}"
    )
    return _data_limit(limit)


@router.delete(PROFILE + "/traffic_limit", status_code=204)
def delete_data_limits(profile_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.delete_data_limits(
        session=session, org_id=principal.org_id, profile_id=profile_id, principal=principal
    )
    return no_content()


@router.delete(PROFILE + "/traffic_limit/{limit_id}", status_code=204)
def delete_data_limit(
    profile_id: IdPath, limit_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.delete_data_limits(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        limit_id=limit_id,
        principal=principal,
    )
    return no_content()


# --- extensions of one endpoint ----------------------------------------------------------------


@router.get(EXTENSIONS)
def list_extensions(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[ExtensionRead]:
    found = extensions.list_extensions(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id
    )
    return [_extension(ext) for ext in found]


@router.post(EXTENSIONS, status_code=201)
def create_extension(
    endpoint_id: IdPath, body: ExtensionIn, session: SessionDep, principal: WriterDep
) -> ExtensionRead:
    ext = extensions.create_extension(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        volume=body.volume,
        traffic_limit_id=body.traffic_limit_id,
        principal=principal,
    )
    return _extension(ext)


@router.delete(EXTENSIONS, status_code=204)
def delete_extensions(endpoint_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    extensions.delete_extensions(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, principal=principal
    )
    return no_content()
