"""The one rendering of an audit event in emnify's shape, shared by every event list."""

from __future__ import annotations

import json

from linkplane.events.models import Event
from linkplane.events.schemas import (
    EventEndpoint,
    EventOrganisation,
    EventRead,
    EventSim,
    EventUser,
    Lookup,
)
from linkplane.events.types import (
    DESCRIPTION,
    SEVERITY_DESCRIPTION,
    SOURCE_DESCRIPTION,
    SOURCE_ID,
    Source,
    type_id,
)
from linkplane.tenancy.models import Organisation, User


def render_event(
    event: Event,
    *,
    org: Organisation,
    user: User | None = None,
    endpoint: EventEndpoint | None = None,
    sim: EventSim | None = None,
) -> EventRead:
    source = SOURCE_ID.get(event.source, Source.API)
    tid = type_id(event.event_type)
    return EventRead(
        id=event.id,
        alert=event.severity >= 1,
        description=event.description,
        timestamp=event.timestamp,
        event_type=Lookup(id=tid, description=DESCRIPTION[tid]),
        event_source=Lookup(id=source.value, description=SOURCE_DESCRIPTION[source]),
        event_severity=Lookup(
            id=event.severity, description=SEVERITY_DESCRIPTION.get(event.severity, "INFO")
        ),
        organisation=EventOrganisation(id=org.id, name=org.name),
        user=EventUser(id=user.id, username=user.username, name=user.name) if user else None,
        endpoint=endpoint,
        sim=sim,
        actor=event.actor,
        entity_type=event.entity_type,
        entity_id=event.entity_id,
        detail=json.loads(event.detail) if event.detail else None,
    )
