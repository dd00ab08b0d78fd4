"""Event responses in emnify's shape (``GET /api/v1/event``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class Lookup(BaseModel):
    id: int
    description: str


class EventOrganisation(BaseModel):
    id: int
    name: str


class EventUser(BaseModel):
    id: int
    username: str
    name: str


class EventEndpoint(BaseModel):
    id: int
    name: str


class EventSim(BaseModel):
    id: int
    iccid: str
    imsi: str


class EventRead(BaseModel):
    """Rendered with ``exclude_none``: like emnify, an event without a user, endpoint or SIM
    has no such key (emnify's description declares them objects, never null)."""

    id: int
    alert: bool
    description: str
    timestamp: datetime
    event_type: Lookup
    event_source: Lookup
    event_severity: Lookup
    organisation: EventOrganisation
    #: The acting user; absent for application tokens, workflows and the system.
    user: EventUser | None = None
    #: The endpoint the event is about, when it is about one.
    endpoint: EventEndpoint | None = None
    #: The SIM the event is about, when it is about one.
    sim: EventSim | None = None
    #: linkplane extensions: who acted ("user:1", "token:3", "system", "workflow"), what was
    #: changed, and structured details (old/new values, AWS resource ids).
    actor: str
    entity_type: str | None = None
    entity_id: int | None = None
    detail: dict[str, Any] | None = None
