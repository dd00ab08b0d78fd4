"""HTTP routes of endpoints (thin: parse, call the service, render)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from linkplane.api.deps import PageDep, PrincipalDep, SessionDep, WriterDep
from linkplane.api.pagination import set_page_headers
from linkplane.api.params import IdPath
from linkplane.api.responses import set_location
from linkplane.devices import service
from linkplane.devices.connectivity import connectivity
from linkplane.devices.models import EndpointStatus
from linkplane.devices.schemas import (
    ConnectivityRead,
    EndpointCreate,
    EndpointRead,
    EndpointSimRead,
    EndpointUpdate,
    NamedRef,
    SpaceRef,
    StatusRead,
    TariffProfileRef,
)
from linkplane.events.render import render_event
from linkplane.events.schemas import EventEndpoint, EventRead
from linkplane.events.service import record, users_of
from linkplane.sims.importer import iccid_with_luhn, luhn_digit
from linkplane.sims.models import SimStatus
from linkplane.tenancy.models import Organisation

router = APIRouter(prefix="/api/v1", tags=["endpoints"])

QueryParam = Annotated[str | None, Query(description="filters, e.g. status:0,name:foo")]
SortParam = Annotated[str | None, Query(description="sort fields, e.g. -name,id")]


def _status(value: int) -> StatusRead:
    status = EndpointStatus(value)
    return StatusRead(id=int(status), description=status.description)


def render(view: service.EndpointView) -> EndpointRead:
    ep, sim = view.endpoint, view.sim
    sim_read = None
    if sim is not None:
        status = SimStatus(sim.status)
        sim_read = EndpointSimRead(
            id=sim.id, iccid=sim.iccid, iccid_with_luhn=iccid_with_luhn(sim.iccid),
            imsi=sim.imsi, msisdn=sim.msisdn,
            status=StatusRead(id=int(status), description=status.description),
        )  # fmt: skip
    space = SpaceRef(id=ep.ip_address_space_id) if ep.ip_address_space_id else None
    imei_luhn = ep.imei[:14] + luhn_digit(ep.imei[:14]) if ep.imei else None
    return EndpointRead(
        id=ep.id, name=ep.name, tags=ep.tags, created=ep.created, last_updated=ep.last_updated,
        status=_status(ep.status),
        service_profile=NamedRef(id=ep.service_profile_id, name=view.service_profile_name),
        tariff_profile=TariffProfileRef(id=ep.tariff_profile_id, name=view.tariff_profile_name),
        ip_address=ep.ip_address, ip_address_space=space, sim=sim_read, imei=ep.imei,
        imei_with_luhn=imei_luhn, imei_lock=ep.imei_lock,
    )  # fmt: skip


@router.get("/endpoint")
def list_endpoints(
    session: SessionDep, principal: PrincipalDep, page: PageDep, response: Response,
    q: QueryParam = None, sort: SortParam = None,
) -> list[EndpointRead]:  # fmt: skip
    views, total = service.list_endpoints(
        session=session, org_id=principal.org_id, offset=page.offset, limit=page.per_page,
        q=q, sort=sort,
    )  # fmt: skip
    set_page_headers(response, page, total)
    return [render(v) for v in views]


@router.post("/endpoint", status_code=201)
def create_endpoint(
    body: EndpointCreate, session: SessionDep, principal: WriterDep, request: Request,
    response: Response,
) -> EndpointRead:
    endpoint = service.create(session=session, org_id=principal.org_id, data=body,
                              principal=principal)  # fmt: skip
    set_location(response, request, f"/api/v1/endpoint/{endpoint.id}")
    return render(service.get(session=session, org_id=principal.org_id, endpoint_id=endpoint.id))


@router.get("/endpoint/status")
def list_endpoint_statuses(_principal: PrincipalDep) -> list[StatusRead]:
    return [_status(s) for s in EndpointStatus]


@router.get("/endpoint/{endpoint_id}")
def get_endpoint(endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep) -> EndpointRead:
    return render(service.get(session=session, org_id=principal.org_id, endpoint_id=endpoint_id))


@router.patch("/endpoint/{endpoint_id}", status_code=204)
def update_endpoint(
    endpoint_id: IdPath, body: EndpointUpdate, session: SessionDep, principal: WriterDep
) -> Response:
    service.update(session=session, org_id=principal.org_id, endpoint_id=endpoint_id,
                   data=body, principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.delete("/endpoint/{endpoint_id}", status_code=204)
def delete_endpoint(endpoint_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.delete(session=session, org_id=principal.org_id, endpoint_id=endpoint_id,
                   principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.get("/endpoint/{endpoint_id}/connectivity")
def get_connectivity(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ConnectivityRead:
    """Emulated from stored state: linkplane has no radio network (see docs/api-compat.md)."""
    view = service.get(session=session, org_id=principal.org_id, endpoint_id=endpoint_id)
    result = connectivity(view.endpoint, view.sim)
    return ConnectivityRead(
        status=StatusRead(id=int(result.status), description=result.status.name),
        location=result.location, pdp_context=result.pdp_context, services=result.services,
    )  # fmt: skip


@router.patch("/endpoint/{endpoint_id}/connectivity", status_code=204)
def reset_connectivity(endpoint_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    """Accepted and recorded; with an emulated network there is nothing to reset."""
    endpoint = service.get_row(session=session, org_id=principal.org_id, endpoint_id=endpoint_id)
    record(
        session=session, org_id=principal.org_id, event_type="Connectivity reset",
        description=f"connectivity reset requested for endpoint {endpoint.name!r}",
        principal=principal, entity_type="endpoint", entity_id=endpoint.id,
    )  # fmt: skip
    return Response(status_code=204)


@router.get("/endpoint/{endpoint_id}/connectivity_info")
def get_connectivity_info(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """emnify's 200-with-error form: there is no network to ask for a cell location.
    Timestamps come from stored state, so the answer is deterministic."""
    endpoint = service.get_row(session=session, org_id=principal.org_id, endpoint_id=endpoint_id)
    now = endpoint.last_updated.isoformat()
    info = {"success": False, "error": "linkplane emulates the network: no location available"}
    return {"subscriber_info": info, "request_timestamp": now, "reply_timestamp": now}


@router.get("/endpoint/{endpoint_id}/event", response_model_exclude_none=True)
def list_endpoint_events(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep, page: PageDep,
    response: Response,
) -> list[EventRead]:  # fmt: skip
    """Audit events of the endpoint, newest first; an unknown id gives [] (as emnify does)."""
    events, total, name = service.list_events(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id,
        offset=page.offset, limit=page.per_page,
    )  # fmt: skip
    set_page_headers(response, page, total)
    org = session.get(Organisation, principal.org_id)
    assert org is not None  # the principal's organisation was checked on authentication
    ep_ref = EventEndpoint(id=endpoint_id, name=name) if name is not None else None
    users = users_of(session=session, events=events)
    return [
        render_event(ev, org=org, user=users.get(ev.user_id or 0), endpoint=ep_ref)
        for ev in events
    ]
