"""HTTP routes of the audit trail: ``GET /api/v1/event`` and the event type lookup."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from linkplane.api.deps import PageDep, PrincipalDep, SessionDep
from linkplane.api.pagination import Q_PARAM, SORT_PARAM, parse_q, parse_sort, set_page_headers
from linkplane.events import service
from linkplane.events.models import Event
from linkplane.events.schemas import EventOrganisation, EventRead, EventUser, Lookup
from linkplane.events.types import (
    EVENT_TYPES,
    SEVERITY_DESCRIPTION,
    SOURCE_DESCRIPTION,
    SOURCE_ID,
    Source,
    type_id,
)
from linkplane.tenancy.models import Organisation, User

router = APIRouter(prefix="/api/v1", tags=["event"])


def _render(event: Event, user: User | None, org: Organisation) -> EventRead:
    source = SOURCE_ID.get(event.source, Source.API)
    tid = type_id(event.event_type)
    return EventRead(
        id=event.id,
        alert=event.severity >= 1,
        description=event.description,
        timestamp=event.timestamp,
        event_type=Lookup(id=tid, description=EVENT_TYPES[tid - 1]),
        event_source=Lookup(id=source.value, description=SOURCE_DESCRIPTION[source]),
        event_severity=Lookup(
            id=event.severity, description=SEVERITY_DESCRIPTION.get(event.severity, "INFO")
        ),
        organisation=EventOrganisation(id=org.id, name=org.name),
        user=EventUser(id=user.id, username=user.username, name=user.name) if user else None,
        actor=event.actor,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        detail=json.loads(event.detail) if event.detail else None,
    )


@router.get("/event", response_model=list[EventRead])
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
    return [_render(e, u, org) for e, u in rows]


def _types() -> list[Lookup]:
    return [Lookup(id=i + 1, description=name) for i, name in enumerate(EVENT_TYPES)]


@router.get("/event/type", response_model=list[Lookup])
def list_event_types(_principal: PrincipalDep) -> list[Lookup]:
    """The event type lookup (ids used by ``q=type:<id>``)."""
    return _types()


@router.get("/event_type", response_model=list[Lookup], include_in_schema=True)
def list_event_types_alias(_principal: PrincipalDep) -> list[Lookup]:
    """Alias of ``/api/v1/event/type``."""
    return _types()
