"""emnify's usage statistics routes (thin: parse, call the service, render)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from linkplane.api.deps import PrincipalDep, SessionDep
from linkplane.api.params import IdPath, OrgParam, own_org
from linkplane.tariffs import service as tariffs
from linkplane.usage import service
from linkplane.usage import stats as usage_stats
from linkplane.usage.schemas import (
    DataVolume,
    EndpointDayRead,
    EndpointStatsRead,
    InclusiveVolumeCost,
    MonthData,
    OrgDataVolume,
    OrgDayRead,
    OrgHourlyRead,
    OrgMonthData,
    OrgStatsRead,
    SimCounts,
    SimStatsRead,
)

router = APIRouter(prefix="/api/v1", tags=["usage"])

StartParam = Annotated[date | None, Query(description="first day, YYYY-MM-DD")]
EndParam = Annotated[date | None, Query(description="last day, YYYY-MM-DD")]


def _month(volume: service.Volume) -> MonthData | None:
    return MonthData(data=DataVolume.of(volume)) if volume.total else None


def _org_month(volume: service.Volume, start: date) -> OrgMonthData:
    data = DataVolume.of(volume).model_dump()
    # emnify: "the month ... in YYYY-MM-01 format".
    return OrgMonthData(data=OrgDataVolume(**data, month=start.strftime("%Y-%m-01")))


@router.get("/endpoint/{endpoint_id}/stats", response_model_exclude_none=True)
def get_endpoint_stats(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> EndpointStatsRead:
    """Data volume of the current and the last UTC month, from the imported records."""
    stats = service.endpoint_stats(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id
    )
    return EndpointStatsRead(current_month=_month(stats.current), last_month=_month(stats.last))


@router.get("/endpoint/{endpoint_id}/stats/daily")
def get_endpoint_daily_stats(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep,
    start_date: StartParam = None, end_date: EndParam = None,
) -> list[EndpointDayRead]:  # fmt: skip
    """Days with traffic; by default the current month."""
    start, end = service.endpoint_range(start_date, end_date)
    days = service.endpoint_daily(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, start=start, end=end
    )
    return [EndpointDayRead(date=d.day, data=DataVolume.of(d.volume)) for d in days]


@router.get("/sim/{sim_id}/stats", response_model_exclude_none=True)
def get_sim_stats(sim_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SimStatsRead:
    """Data the SIM carried in the current and the last UTC month (in whichever endpoint)."""
    current, last = usage_stats.sim_stats(session=session, org_id=principal.org_id, sim_id=sim_id)
    return SimStatsRead.of(sim_id, current, last)


@router.get("/sim/{sim_id}/stats/daily")
def get_sim_daily_stats(
    sim_id: IdPath, session: SessionDep, principal: PrincipalDep,
    start_date: StartParam = None, end_date: EndParam = None,
) -> list[EndpointDayRead]:  # fmt: skip
    """Days with traffic of the SIM; by default the current month (as the endpoint's)."""
    start, end = service.endpoint_range(start_date, end_date)
    days = usage_stats.sim_daily(
        session=session, org_id=principal.org_id, sim_id=sim_id, start=start, end=end
    )
    return [EndpointDayRead(date=d.day, data=DataVolume.of(d.volume)) for d in days]


@router.get("/organisation/{org_id_or_my}/stats")
def get_organisation_stats(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep
) -> OrgStatsRead:
    org_id = own_org(org_id_or_my, principal)
    stats = service.org_stats(session=session, org_id=org_id)
    counts = usage_stats.org_counts(session=session, org_id=org_id)
    pooled, unpooled = tariffs.volume_totals(session=session, org_id=org_id)
    return OrgStatsRead(
        current_month=_org_month(stats.current, stats.current_start),
        last_month=_org_month(stats.last, stats.last_start),
        sim=SimCounts.of(counts.sims), service_profiles=counts.service_profiles,
        tariff_profiles=counts.tariff_profiles, users=counts.users,
        inclusive_volume=InclusiveVolumeCost(pooled=pooled, unpooled=unpooled),
    )  # fmt: skip


@router.get("/organisation/{org_id_or_my}/stats/daily")
def get_organisation_daily_stats(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep,
    start_date: StartParam = None,
    end_date: Annotated[date | None, Query(description="first day NOT included")] = None,
) -> list[OrgDayRead]:  # fmt: skip
    """Days with traffic; by default the current month."""
    org_id = own_org(org_id_or_my, principal)
    start, end = service.org_range(start_date, end_date)
    days = service.org_daily(session=session, org_id=org_id, start=start, end=end)
    return [OrgDayRead.of(d) for d in days]


@router.get("/organisation/{org_id_or_my}/stats/hourly")
def get_organisation_hourly_stats(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep,
    start_date: Annotated[datetime | None, Query(description="first hour (UTC)")] = None,
    end_date: Annotated[datetime | None, Query(description="hour NOT included")] = None,
) -> OrgHourlyRead:  # fmt: skip
    """Hours with traffic, from the records delivered with an hour; by default the last
    three hours."""
    org_id = own_org(org_id_or_my, principal)
    start, end = usage_stats.hourly_range(start_date, end_date)
    hours = usage_stats.org_hourly(session=session, org_id=org_id, start=start, end=end)
    return OrgHourlyRead.of(hours)


@router.get("/stats/daily")
def get_daily_stats(session: SessionDep, principal: PrincipalDep) -> list[OrgDayRead]:
    """The caller's organisation's days with traffic this month (emnify's older route)."""
    start, end = service.org_range(None, None)
    days = service.org_daily(session=session, org_id=principal.org_id, start=start, end=end)
    return [OrgDayRead.of(d) for d in days]
