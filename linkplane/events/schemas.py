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


class EventRead(BaseModel):
    id: int
    alert: bool
    description: str
    timestamp: datetime
    event_type: Lookup
    event_source: Lookup
    event_severity: Lookup
    organisation: EventOrganisation
    #: The acting user; null for application tokens, workflows and the system.
    user: EventUser | None
    #: The endpoint the event is about, when it is about one.
    endpoint: EventEndpoint | None = None
    #: linkplane extensions: who acted ("user:1", "token:3", "system", "workflow"), what was
    #: changed, and structured details (old/new values, AWS resource ids).
    actor: str
    entity_type: str | None
    entity_id: int | None
    detail: dict[str, Any] | None
