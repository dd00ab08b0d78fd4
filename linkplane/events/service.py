"""Recording audit events. Every feature records its changes through :func:`record`."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from linkplane.events.models import Event
from linkplane.tenancy.principal import Principal


def actor_of(principal: Principal | None) -> str:
    if principal is None:
        return "system"
    if principal.user_id is not None:
        return f"user:{principal.user_id}"
    return f"token:{principal.token_id}"


def record(
    *,
    session: Session,
    org_id: int,
    event_type: str,
    description: str,
    principal: Principal | None = None,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    severity: int = 0,
    source: str = "api",
    detail: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the session (committed with the change it describes)."""
    event = Event(
        org_id=org_id,
        event_type=event_type,
        description=description,
        actor=actor or actor_of(principal),
        user_id=principal.user_id if principal else None,
        entity_type=entity_type,
        entity_id=entity_id,
        severity=severity,
        source=source,
        detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
    )
    session.add(event)
    return event
