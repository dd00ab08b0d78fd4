"""HTTP routes of the audit trail: ``GET /api/v1/event`` and the event type lookup."""

from __future__ import annotations

from fastapi import APIRouter, Response

from linkplane.api.deps import PageDep, PrincipalDep, SessionDep
from linkplane.api.pagination import Q_PARAM, SORT_PARAM, parse_q, parse_sort, set_page_headers
from linkplane.events import service
from linkplane.events.render import render_event
from linkplane.events.schemas import EventRead, Lookup
from linkplane.events.types import DESCRIPTION
from linkplane.tenancy.models import Organisation

router = APIRouter(prefix="/api/v1", tags=["event"])


@router.get("/event", response_model=list[EventRead], response_model_exclude_none=True)
def list_events(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    response: Response,
    q: str | None = Q_PARAM,
    sort: str | None = SORT_PARAM,
) -> list[EventRead]:
    """The caller's organisation's audit trail: who changed what, when (newest first)."""
    rows, total = service.list_events(
        session=session,
        org_id=principal.org_id,
        filters=parse_q(q, service.EVENT_FILTERS),
        sort=parse_sort(sort, set(service.EVENT_SORT)),
        offset=page.offset,
        limit=page.per_page,
    )
    set_page_headers(response, page, total)
    org = session.get(Organisation, principal.org_id)
    assert org is not None  # the principal's organisation was checked on authentication
    return [render_event(e, org=org, user=u) for e, u in rows]


def _types() -> list[Lookup]:
    return [Lookup(id=i, description=name) for i, name in DESCRIPTION.items()]


@router.get("/event/type", response_model=list[Lookup])
def list_event_types(_principal: PrincipalDep) -> list[Lookup]:
    """The event type lookup (ids used by ``q=type:<id>``)."""
    return _types()


@router.get("/event_type", response_model=list[Lookup], include_in_schema=True)
def list_event_types_alias(_principal: PrincipalDep) -> list[Lookup]:
    """Alias of ``/api/v1/event/type``."""
    return _types()
