"""emnify's usage statistics routes (thin: parse, call the service, render)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from linkplane.api.deps import PrincipalDep, SessionDep
from linkplane.api.params import MAX_ID, IdPath
from linkplane.errors import InvalidInput, NotFound
from linkplane.tenancy.principal import Principal
from linkplane.usage import service
from linkplane.usage.schemas import (
    DataVolume,
    EndpointDayRead,
    EndpointStatsRead,
    MonthData,
    OrgDataVolume,
    OrgDayRead,
    OrgMonthData,
    OrgStatsRead,
    SimStatsRead,
)

router = APIRouter(prefix="/api/v1", tags=["usage"])

StartParam = Annotated[date | None, Query(description="first day, YYYY-MM-DD")]
EndParam = Annotated[date | None, Query(description="last day, YYYY-MM-DD")]
OrgParam = Annotated[
    str, Path(max_length=12, description="`my` or the numeric id of your organisation")
]


def _month(volume: service.Volume) -> MonthData | None:
    return MonthData(data=DataVolume.of(volume)) if volume.total else None


def _org_month(volume: service.Volume, start: date) -> OrgMonthData:
    data = DataVolume.of(volume).model_dump()
    return OrgMonthData(data=OrgDataVolume(**data, month=start.strftime("%Y-%m")))


def _own_org(org_id_or_my: str, principal: Principal) -> int:
    """``my`` or the caller's own id; any other organisation reads as unknown (404)."""
    if org_id_or_my == "my":
        return principal.org_id
    # isascii: str.isdigit() also accepts digits that int() refuses, such as '²'.
    if (
        not (org_id_or_my.isascii() and org_id_or_my.isdigit())
        or not 1 <= int(org_id_or_my) <= MAX_ID
    ):
        raise InvalidInput("org_id_or_my must be 'my' or a numeric id", field="org_id_or_my")
    if int(org_id_or_my) != principal.org_id:
        raise NotFound(f"organisation {org_id_or_my} not found", field="org_id_or_my")
    return principal.org_id


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
    current, last = service.sim_stats(session=session, org_id=principal.org_id, sim_id=sim_id)
    return SimStatsRead.of(sim_id, current, last)


@router.get("/sim/{sim_id}/stats/daily")
def get_sim_daily_stats(
    sim_id: IdPath, session: SessionDep, principal: PrincipalDep,
    start_date: StartParam = None, end_date: EndParam = None,
) -> list[EndpointDayRead]:  # fmt: skip
    """Days with traffic of the SIM; by default the current month (as the endpoint's)."""
    start, end = service.endpoint_range(start_date, end_date)
    days = service.sim_daily(
        session=session, org_id=principal.org_id, sim_id=sim_id, start=start, end=end
    )
    return [EndpointDayRead(date=d.day, data=DataVolume.of(d.volume)) for d in days]


@router.get("/organisation/{org_id_or_my}/stats")
def get_organisation_stats(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep
) -> OrgStatsRead:
    stats = service.org_stats(session=session, org_id=_own_org(org_id_or_my, principal))
    return OrgStatsRead(
        current_month=_org_month(stats.current, stats.current_start),
        last_month=_org_month(stats.last, stats.last_start),
    )


@router.get("/organisation/{org_id_or_my}/stats/daily")
def get_organisation_daily_stats(
    org_id_or_my: OrgParam, session: SessionDep, principal: PrincipalDep,
    start_date: StartParam = None,
    end_date: Annotated[date | None, Query(description="first day NOT included")] = None,
) -> list[OrgDayRead]:  # fmt: skip
    """Days with traffic; by default the current month."""
    org_id = _own_org(org_id_or_my, principal)
    start, end = service.org_range(start_date, end_date)
    days = service.org_daily(session=session, org_id=org_id, start=start, end=end)
    return [OrgDayRead.of(d) for d in days]
