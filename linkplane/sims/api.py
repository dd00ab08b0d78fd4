"""HTTP routes of SIMs and SIM batches (thin: parse, call the service, render)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from linkplane.api.deps import PageDep, PrincipalDep, SessionDep, WriterDep
from linkplane.api.pagination import Q_PARAM, SORT_PARAM, parse_q, parse_sort, set_page_headers
from linkplane.api.params import IdPath
from linkplane.devices.models import Endpoint
from linkplane.events import service as events
from linkplane.events.render import render_event
from linkplane.events.schemas import EventRead, EventSim
from linkplane.sims import service
from linkplane.sims.importer import iccid_with_luhn
from linkplane.sims.models import Sim, SimStatus
from linkplane.sims.schemas import (
    OrgRef,
    SimBatchRead,
    SimBatchRegister,
    SimBatchRegistered,
    SimEndpointRef,
    SimIdIn,
    SimRead,
    SimUpdate,
    StatusRef,
)
from linkplane.tenancy.models import Organisation

router = APIRouter(prefix="/api/v1", tags=["sims"])

QueryParam = Annotated[str | None, Query(description="filters, e.g. status:1,endpoint:null")]
SortParam = Annotated[str | None, Query(description="sort fields, e.g. -status,id")]


def sim_status(value: int) -> StatusRef:
    status = SimStatus(value)
    return StatusRef(id=int(status), description=status.description)


def render(sim: Sim, endpoint: Endpoint | None, org: OrgRef) -> SimRead:
    ep = None
    if endpoint is not None:
        ep = SimEndpointRef(
            id=endpoint.id, name=endpoint.name, ip_address=endpoint.ip_address,
            created=endpoint.created, last_updated=endpoint.last_updated,
        )  # fmt: skip
    return SimRead(
        id=sim.id, iccid=sim.iccid, iccid_with_luhn=iccid_with_luhn(sim.iccid), imsi=sim.imsi,
        msisdn=sim.msisdn, status=sim_status(sim.status), production_date=sim.production_date,
        activation_date=sim.activation_date, customer_org=org, endpoint=ep,
    )  # fmt: skip


def _org(session: SessionDep, org_id: int) -> OrgRef:
    org = session.get(Organisation, org_id)
    return OrgRef(id=org_id, name=org.name if org else "")


@router.get("/sim", response_model_exclude_none=True)
def list_sims(
    session: SessionDep, principal: PrincipalDep, page: PageDep, response: Response,
    q: QueryParam = None, sort: SortParam = None,
) -> list[SimRead]:  # fmt: skip
    views, total = service.list_sims(
        session=session, org_id=principal.org_id, offset=page.offset, limit=page.per_page,
        q=q, sort=sort,
    )  # fmt: skip
    set_page_headers(response, page, total)
    org = _org(session, principal.org_id)
    return [render(v.sim, v.endpoint, org) for v in views]


@router.get("/sim/status")
def list_sim_statuses(_principal: PrincipalDep) -> list[StatusRef]:
    return [sim_status(s) for s in SimStatus]


@router.delete("/sim/multi", status_code=204)
def delete_sims(
    session: SessionDep, principal: WriterDep,
    body: Annotated[list[SimIdIn], Body(max_length=service.MAX_BULK)],
) -> Response:  # fmt: skip
    """Delete SIMs, all or none (emnify's bulk delete; deleted SIMs cannot be recovered)."""
    service.delete(session=session, org_id=principal.org_id, sim_ids=[s.id for s in body],
                   principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.get("/sim/{sim_id}", response_model_exclude_none=True)
def get_sim(sim_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SimRead:
    view = service.get(session=session, org_id=principal.org_id, sim_id=sim_id)
    return render(view.sim, view.endpoint, _org(session, principal.org_id))


@router.patch("/sim/{sim_id}", status_code=204)
def update_sim(
    sim_id: IdPath, body: SimUpdate, session: SessionDep, principal: WriterDep
) -> Response:
    status = body.status.id if body.status else None
    customer = body.customer()
    service.update(
        session=session, org_id=principal.org_id, sim_id=sim_id, status=status,
        customer_org_id=customer.id if customer else None, principal=principal,
    )  # fmt: skip
    return Response(status_code=204)


@router.delete("/sim/{sim_id}", status_code=204)
def delete_sim(sim_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    """Delete a SIM that no endpoint uses (409 while one does)."""
    service.delete(session=session, org_id=principal.org_id, sim_ids=[sim_id],
                   principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.get("/sim/{sim_id}/event", response_model_exclude_none=True)
def list_sim_events(
    sim_id: IdPath, session: SessionDep, principal: PrincipalDep, page: PageDep,
    response: Response, q: str | None = Q_PARAM, sort: str | None = SORT_PARAM,
) -> list[EventRead]:  # fmt: skip
    """The audit events of one SIM, newest first, with the filters of ``GET /event``."""
    sim = service.get(session=session, org_id=principal.org_id, sim_id=sim_id).sim
    rows, total = events.list_events(
        session=session, org_id=principal.org_id, filters=parse_q(q, events.EVENT_FILTERS),
        sort=parse_sort(sort, set(events.EVENT_SORT)), offset=page.offset,
        limit=page.per_page, entity=("sim", sim.id),
    )  # fmt: skip
    set_page_headers(response, page, total)
    org = session.get(Organisation, principal.org_id)
    assert org is not None  # the principal's organisation was checked on authentication
    ref = EventSim(id=sim.id, iccid=sim.iccid, imsi=sim.imsi)
    return [render_event(e, org=org, user=u, sim=ref) for e, u in rows]


@router.get("/sim_batch/bic/{bic}")
def validate_sim_batch(bic: str, session: SessionDep, principal: PrincipalDep) -> SimBatchRead:
    sims = service.validate_batch(session=session, org_id=principal.org_id, bic=bic)
    return SimBatchRead(
        bic=bic, quantity=str(len(sims)), customer_org_id=principal.org_id,
        status=sim_status(SimStatus.ISSUED),
    )  # fmt: skip


def _register(
    bic: str, body: SimBatchRegister | None, session: SessionDep, principal: WriterDep
) -> SimBatchRegistered:
    status = None
    if body is not None:
        status = body.sim_status.id if body.sim_status else body.id
    sims = service.register_batch(
        session=session, org_id=principal.org_id, bic=bic, status=status, principal=principal
    )
    org = _org(session, principal.org_id)
    return SimBatchRegistered(sim=[render(s, None, org) for s in sims])


@router.patch("/sim_batch/bic/{bic}", response_model_exclude_none=True)
def register_sim_batch(
    bic: str, session: SessionDep, principal: WriterDep, body: SimBatchRegister | None = None
) -> SimBatchRegistered:
    """Register the batch (emnify's PATCH); the body's status defaults to Issued."""
    return _register(bic, body, session, principal)


@router.post("/sim_batch/bic/{bic}", response_model_exclude_none=True)
def register_sim_batch_post(
    bic: str, session: SessionDep, principal: WriterDep, body: SimBatchRegister | None = None
) -> SimBatchRegistered:
    """Alias of the PATCH, for clients that register with POST."""
    return _register(bic, body, session, principal)
