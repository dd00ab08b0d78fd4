"""HTTP routes of service and tariff profiles (thin: parse, call the service, render)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from linkplane.api.deps import PrincipalDep, SessionDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import set_location
from linkplane.callbacks import service as callbacks
from linkplane.callbacks.schemas import CallbackRef, SecretRef
from linkplane.profiles import regions, service
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.profiles.schemas import (
    SERVICE_FLAGS,
    BreakoutRegionRead,
    ServiceProfileCreate,
    ServiceProfileRead,
    ServiceProfileUpdate,
    TariffProfileCreate,
    TariffProfileRead,
    TariffProfileUpdate,
)
from linkplane.tariffs import profiles as tariff_profiles
from linkplane.tariffs import render
from linkplane.trafficlimits import service as traffic
from linkplane.trafficlimits.api import sms_limit_read
from linkplane.trafficlimits.catalogue import SmsLimit
from linkplane.trafficlimits.catalogue import service as service_of
from linkplane.trafficlimits.schemas import ProfileServiceRead

router = APIRouter(prefix="/api/v1", tags=["profiles"])


def _services(
    sids: list[int], limits: dict[tuple[int, int], list[SmsLimit]], pid: int
) -> list[ProfileServiceRead]:
    reads = []
    for sid in sids:
        found = service_of(sid)
        if found is not None:
            sms_limits = [sms_limit_read(limit) for limit in limits.get((pid, sid), [])]
            reads.append(ProfileServiceRead(id=sid, description=found.description,
                                            traffic_limit=sms_limits))  # fmt: skip
    return reads


def _service_reads(session: Session, profiles: list[ServiceProfile]) -> list[ServiceProfileRead]:
    """The profiles with their use count, services (and SMS limits) and callback, batched."""
    ids = [p.id for p in profiles]
    used = service.usage_counts(session=session, model=ServiceProfile, ids=ids)
    services = traffic.services_of(session=session, profile_ids=ids)
    limits = traffic.sms_limits_of(session=session, profile_ids=ids)
    links = callbacks.profile_links(session=session, profile_ids=ids)
    region_ids = regions.references(session) if any(p.breakout_region for p in profiles) else {}
    reads = []
    for p in profiles:
        callback, secret_id = links.get(p.id, (None, None))
        reads.append(ServiceProfileRead(
            id=p.id, name=p.name, description=p.description, used_count=str(used.get(p.id, 0)),
            service=_services(services.get(p.id, []), limits, p.id),
            api_callback=CallbackRef(id=callback.id, url=callback.url) if callback else None,
            api_secret=SecretRef(id=secret_id) if secret_id else None,
            breakout_region=_region_read(p.breakout_region, region_ids),
            **{flag: getattr(p, flag) for flag in SERVICE_FLAGS},
        ))  # fmt: skip
    return reads


def _region_read(name: str | None, ids: dict[str, int]) -> BreakoutRegionRead | None:
    if name is None or name not in ids:
        return None
    return BreakoutRegionRead(id=ids[name], name=name)


def _tariff_reads(session: Session, profiles: list[TariffProfile]) -> list[TariffProfileRead]:
    """Reads of tariff profiles with their usage and tariff, in a fixed number of queries."""
    used = service.usage_counts(session=session, model=TariffProfile, ids=[p.id for p in profiles])
    tariffs = tariff_profiles.describe(session=session, profiles=profiles)
    reads = []
    for p in profiles:
        tariff, volume = render.profile_tariff(tariffs[p.id]) if p.id in tariffs else (None, None)
        reads.append(TariffProfileRead(
            id=p.id, name=p.name, description=p.description, used_count=str(used.get(p.id, 0)),
            organisation_id=str(p.org_id), tariff=tariff, inclusive_volume=volume,
        ))  # fmt: skip
    return reads


@router.get("/service_profile", response_model_exclude_none=True)
def list_service_profiles(session: SessionDep, principal: PrincipalDep) -> list[ServiceProfileRead]:
    profiles = service.list_service_profiles(session=session, org_id=principal.org_id)
    return _service_reads(session, profiles)


@router.post("/service_profile", status_code=201, response_model_exclude_none=True)
def create_service_profile(
    body: ServiceProfileCreate, session: SessionDep, principal: WriterDep, request: Request,
    response: Response,
) -> ServiceProfileRead:
    profile = service.create_service_profile(
        session=session, org_id=principal.org_id, data=body, principal=principal
    )
    set_location(response, request, f"/api/v1/service_profile/{profile.id}")
    session.flush()
    return _service_reads(session, [profile])[0]


@router.get("/service_profile/{profile_id}", response_model_exclude_none=True)
def get_service_profile(
    profile_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ServiceProfileRead:
    profile = service.get_service_profile(
        session=session, org_id=principal.org_id, profile_id=profile_id
    )
    return _service_reads(session, [profile])[0]


@router.patch("/service_profile/{profile_id}", status_code=204)
def update_service_profile(
    profile_id: IdPath, body: ServiceProfileUpdate, session: SessionDep, principal: WriterDep
) -> Response:
    service.update_service_profile(
        session=session, org_id=principal.org_id, profile_id=profile_id, data=body,
        principal=principal,
    )  # fmt: skip
    return Response(status_code=204)


@router.delete("/service_profile/{profile_id}", status_code=204)
def delete_service_profile(
    profile_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.delete_profile(
        session=session, model=ServiceProfile, org_id=principal.org_id, profile_id=profile_id,
        principal=principal,
    )  # fmt: skip
    return Response(status_code=204)


@router.get("/tariff_profile", response_model_exclude_none=True)
def list_tariff_profiles(session: SessionDep, principal: PrincipalDep) -> list[TariffProfileRead]:
    profiles = service.list_tariff_profiles(session=session, org_id=principal.org_id)
    return _tariff_reads(session, profiles)


@router.post("/tariff_profile", status_code=201, response_model_exclude_none=True)
def create_tariff_profile(
    body: TariffProfileCreate, session: SessionDep, principal: WriterDep, request: Request,
    response: Response,
) -> TariffProfileRead:
    profile = service.create_tariff_profile(
        session=session, org_id=principal.org_id, data=body, principal=principal
    )
    set_location(response, request, f"/api/v1/tariff_profile/{profile.id}")
    return _tariff_reads(session, [profile])[0]


@router.get("/tariff_profile/{profile_id}", response_model_exclude_none=True)
def get_tariff_profile(
    profile_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> TariffProfileRead:
    profile = service.get_tariff_profile(
        session=session, org_id=principal.org_id, profile_id=profile_id
    )
    return _tariff_reads(session, [profile])[0]


@router.patch("/tariff_profile/{profile_id}", status_code=204)
def update_tariff_profile(
    profile_id: IdPath, body: TariffProfileUpdate, session: SessionDep, principal: WriterDep
) -> Response:
    service.update_tariff_profile(
        session=session, org_id=principal.org_id, profile_id=profile_id, data=body,
        principal=principal,
    )  # fmt: skip
    return Response(status_code=204)


@router.delete("/tariff_profile/{profile_id}", status_code=204)
def delete_tariff_profile(
    profile_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.delete_profile(
        session=session, model=TariffProfile, org_id=principal.org_id, profile_id=profile_id,
        principal=principal,
    )  # fmt: skip
    return Response(status_code=204)
