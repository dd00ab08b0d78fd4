"""HTTP routes of tariffs: an organisation's tariff and inclusive volumes, the tariff side of
tariff profiles, and the catalogue they choose from (thin: parse, call, render)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response

from linkplane.api.deps import PrincipalDep, SessionDep, WriterDep
from linkplane.api.params import MAX_ID, IdPath, OrgParam, own_org
from linkplane.errors import NotFound
from linkplane.operators.schemas import CountryRead
from linkplane.operators.service import Country
from linkplane.profiles import service as profiles
from linkplane.tariffs import profiles as tariff_profiles
from linkplane.tariffs import render, service
from linkplane.tariffs.schemas import (
    CatalogueVolumeRead,
    CoverageRead,
    InclusiveVolumeAssign,
    InclusiveVolumeAssigned,
    OrgInclusiveVolumeRead,
    TariffChange,
    TariffRead,
)
from linkplane.tenancy.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["tariffs"])
VolumeId = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id of an inclusive volume")]
RatezoneId = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id of a rate zone")]


def _tariff_org(org_id: int, principal: Principal) -> int:
    """The own organisation, or any for a provider administrator (emnify: own and direct
    children, and linkplane's provider manages every organisation)."""
    if org_id != principal.org_id and not principal.provider_admin:
        raise NotFound(f"organisation {org_id} not found", field="org_id")
    return org_id


@router.patch("/organisation/{org_id}/tariff")
def change_tariff(
    org_id: IdPath, body: TariffChange, session: SessionDep, principal: WriterDep
) -> dict[str, object]:
    """Change the organisation's tariff; its tariff profiles follow, its inclusive volumes
    end (see docs/api-compat.md)."""
    service.change_org_tariff(session=session, org_id=_tariff_org(org_id, principal),
                              tariff_id=body.id, principal=principal)  # fmt: skip
    return {}


@router.get(
    "/organisation/{org_id_or_my}/inclusive_volume/active", response_model_exclude_none=True
)
def active_inclusive_volumes(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep
) -> list[OrgInclusiveVolumeRead]:
    """The organisation's inclusive volumes running this month."""
    org_id = own_org(org_id_or_my, principal)
    views = service.active_inclusive_volumes(session=session, org_id=org_id)
    return [render.org_volume(v) for v in views]


def _day(value: datetime | date | None) -> date | None:
    """emnify strips the time of these dates (they are whole months)."""
    return value.date() if isinstance(value, datetime) else value


@router.put(
    "/organisation/{org_id_or_my}/inclusive_volume/{inclusive_volume_id}",
    status_code=201, response_model_exclude_none=True,
)  # fmt: skip
def assign_inclusive_volume(
    org_id_or_my: OrgParam, inclusive_volume_id: VolumeId, session: SessionDep,
    principal: WriterDep, body: Annotated[InclusiveVolumeAssign | None, Body()] = None,
) -> InclusiveVolumeAssigned:  # fmt: skip
    """Assign an inclusive volume offered in the organisation's tariff, for some months."""
    data = body or InclusiveVolumeAssign()
    row = service.assign_inclusive_volume(
        session=session, org_id=own_org(org_id_or_my, principal),
        inclusive_volume_id=inclusive_volume_id, start=_day(data.start_date),
        end=_day(data.end_date), pooled=data.pooled, principal=principal,
    )  # fmt: skip
    end = service.as_datetime(row.end_date, end=True) if row.end_date else None
    return InclusiveVolumeAssigned(id=row.id, start_date=service.as_datetime(row.start_date),
                                   end_date=end, pooled=row.pooled)  # fmt: skip


# --- tariff profiles -----------------------------------------------------------------------


def _country(c: Country) -> CountryRead:
    return CountryRead(id=c.id, name=c.name, country_code=c.country_code, mcc=c.mcc,
                       iso_code=c.iso_code)  # fmt: skip


@router.get("/tariff_profile/{tariff_profile_id}/coverage")
def coverage(
    tariff_profile_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[CoverageRead]:
    """The countries of the profile's selected rate zones and their operator counts."""
    profile = profiles.get_tariff_profile(session=session, org_id=principal.org_id,
                                          profile_id=tariff_profile_id)  # fmt: skip
    return [CoverageRead(country=_country(c), redundancy_count=n)
            for c, n in tariff_profiles.coverage(session=session, profile=profile)]  # fmt: skip


def _select(
    tariff_profile_id: int, ratezone_id: int, selected: bool, session: SessionDep,
    principal: Principal,
) -> Response:  # fmt: skip
    profile = profiles.get_tariff_profile(session=session, org_id=principal.org_id,
                                          profile_id=tariff_profile_id)  # fmt: skip
    tariff_profiles.select_ratezone(session=session, profile=profile, ratezone_id=ratezone_id,
                                    selected=selected, principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.put("/tariff_profile/{tariff_profile_id}/ratezone_selection/{ratezone_id}",
            status_code=204)  # fmt: skip
def select_ratezone(
    tariff_profile_id: IdPath, ratezone_id: RatezoneId, session: SessionDep,
    principal: WriterDep,
) -> Response:  # fmt: skip
    """Select an active rate zone of the profile's tariff."""
    return _select(tariff_profile_id, ratezone_id, True, session, principal)


@router.delete("/tariff_profile/{tariff_profile_id}/ratezone_selection/{ratezone_id}",
               status_code=204)  # fmt: skip
def deselect_ratezone(
    tariff_profile_id: IdPath, ratezone_id: RatezoneId, session: SessionDep,
    principal: WriterDep,
) -> Response:  # fmt: skip
    return _select(tariff_profile_id, ratezone_id, False, session, principal)


@router.put("/tariff_profile/{tariff_profile_id}/inclusive_volume/{inclusive_volume_id}",
            status_code=204)  # fmt: skip
def assign_profile_volume(
    tariff_profile_id: IdPath, inclusive_volume_id: VolumeId, session: SessionDep,
    principal: WriterDep,
) -> Response:  # fmt: skip
    """Count the profile's traffic against one of the organisation's inclusive volumes."""
    profile = profiles.get_tariff_profile(session=session, org_id=principal.org_id,
                                          profile_id=tariff_profile_id)  # fmt: skip
    tariff_profiles.assign_volume(session=session, profile=profile,
                                  volume_id=inclusive_volume_id, principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.delete("/tariff_profile/{tariff_profile_id}/inclusive_volume/{inclusive_volume_id}",
               status_code=204)  # fmt: skip
def unassign_profile_volume(
    tariff_profile_id: IdPath, inclusive_volume_id: VolumeId, session: SessionDep,
    principal: WriterDep,
) -> Response:  # fmt: skip
    profile = profiles.get_tariff_profile(session=session, org_id=principal.org_id,
                                          profile_id=tariff_profile_id)  # fmt: skip
    tariff_profiles.unassign_volume(session=session, profile=profile,
                                    volume_id=inclusive_volume_id, principal=principal)  # fmt: skip
    return Response(status_code=204)


# --- the catalogue (beyond the 122 operations: how clients find the ids above) -------------


@router.get("/tariff")
def list_tariffs(session: SessionDep, principal: PrincipalDep) -> list[TariffRead]:
    """The provider's active tariffs with their rate zones; the counts are the caller's."""
    tariffs = service.list_tariffs(session=session)
    ids = [t.id for t in tariffs]
    zones = service.ratezones(session=session, tariff_ids=ids)
    counts = service.usage_counts(session=session, org_id=principal.org_id, tariff_ids=ids)
    return [render.tariff(t, [(z, None) for z in zones if z.tariff_id == t.id], *counts[t.id])
            for t in tariffs]  # fmt: skip


@router.get("/tariff/{tariff_id}/ratezone/{ratezone_id}/inclusive_volume")
def list_offers(
    tariff_id: IdPath, ratezone_id: RatezoneId, session: SessionDep, _principal: PrincipalDep
) -> list[CatalogueVolumeRead]:
    """The inclusive volumes on offer in a rate zone (emnify's path for finding their ids)."""
    tariff = service.get_tariff(session=session, tariff_id=tariff_id, field="tariff_id")
    volumes = service.offers(session=session, tariff_id=tariff.id, ratezone_id=ratezone_id)
    zone = service.ratezones(session=session, tariff_ids=[tariff.id])
    by_id = {z.id: z for z in zone}
    return [render.offer(v, by_id[v.ratezone_id], tariff) for v in volumes]
