"""Recording audit events. Every feature records its changes through :func:`record`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, UnaryExpression, func, insert, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from linkplane.db import like_contains, utcnow
from linkplane.errors import InvalidInput
from linkplane.events.models import Event
from linkplane.events.types import GENERIC, SOURCE_ID, TYPE_ID, type_names
from linkplane.ids import bounded_int
from linkplane.tenancy.models import Organisation, User
from linkplane.tenancy.principal import Principal
from linkplane.tenancy.scope import scoped


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
    event = Event(**event_values(
        org_id=org_id, event_type=event_type, description=description, principal=principal,
        actor=actor, entity_type=entity_type, entity_id=entity_id, severity=severity,
        source=source, detail=detail,
    ))  # fmt: skip
    session.add(event)
    return event


def event_values(
    *, org_id: int, event_type: str, description: str, principal: Principal | None = None,
    actor: str | None = None, entity_type: str | None = None, entity_id: int | None = None,
    severity: int = 0, source: str = "api", detail: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The columns of one event row (see :func:`record`)."""
    return {
        "org_id": org_id, "event_type": event_type, "description": description,
        "actor": actor or actor_of(principal),
        "user_id": principal.user_id if principal else None,
        "entity_type": entity_type, "entity_id": entity_id, "severity": severity,
        "source": source,
        "detail": json.dumps(detail, sort_keys=True, default=str) if detail else None,
        "timestamp": utcnow(),
    }  # fmt: skip


def record_many(*, session: Session, events: list[dict[str, Any]]) -> None:
    """Insert many events (each from :func:`event_values`) in one batched statement: what a
    bulk change records, without a round trip per event."""
    if events:
        session.execute(insert(Event), events)


# --- reading the audit trail ---------------------------------------------------------------

#: emnify ``sort`` fields of GET /api/v1/event and the columns they order by.
EVENT_SORT: dict[str, InstrumentedAttribute[Any]] = {
    "id": Event.id,
    "timestamp": Event.timestamp,
    "source": Event.source,
    "severity": Event.severity,
    "alert": Event.severity,
    "type": Event.event_type,
    "user": Event.user_id,
    "organisation": Event.org_id,
}
#: emnify ``q`` filters linkplane answers; the endpoint/SIM ones need fleet data in events.
EVENT_FILTERS = {
    "from",
    "until",
    "type",
    "source",
    "severity",
    "alert",
    "description",
    "user",
    "organisation",
    "timestamp",
}


def list_events(
    *,
    session: Session,
    org_id: int,
    filters: Mapping[str, Sequence[str]],
    sort: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
    entity: tuple[str, int] | None = None,
) -> tuple[list[tuple[Event, User | None]], int]:
    """The organisation's events (newest first unless sorted), with the acting user;
    ``entity`` (type, id) keeps only the events about that one resource."""
    stmt = _event_filters(scoped(select(Event), org_id), filters, org_id)
    if entity is not None:
        stmt = stmt.where(Event.entity_type == entity[0], Event.entity_id == entity[1])
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order: list[UnaryExpression[Any]] = [
        EVENT_SORT[f].desc() if desc else EVENT_SORT[f].asc() for f, desc in sort
    ] or [Event.id.desc()]
    page = (
        select(Event, User)
        .outerjoin(User, (User.id == Event.user_id) & (User.org_id == Event.org_id))
        .where(Event.id.in_(select(stmt.subquery().c.id)))
        .order_by(*order, Event.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(e, u) for e, u in session.execute(page).tuples()], total


def _when(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{field} must be YYYY-MM-DDTHH:mm:ssZ, got {value!r}", field=field
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ints(values: Sequence[str], field: str) -> set[int]:
    try:
        return {bounded_int(v) for v in values}
    except ValueError:
        raise InvalidInput(
            f"{field} takes numeric ids, got {list(values)!r}", field=field
        ) from None


def _event_filters(
    stmt: Select[tuple[Event]], filters: Mapping[str, Sequence[str]], org_id: int
) -> Select[tuple[Event]]:
    if ("from" in filters) != ("until" in filters):
        raise InvalidInput("from and until must be given together", field="q.from")
    for key, values in filters.items():
        stmt = stmt.where(_condition(key, values, org_id))
    return stmt


def _condition(key: str, values: Sequence[str], org_id: int) -> ColumnElement[bool]:
    field = f"q.{key}"
    if key == "from":
        return Event.timestamp >= _when(values[0], field)
    if key == "until":
        return Event.timestamp <= _when(values[0], field)
    if key == "timestamp":
        day = _when(values[0], field).replace(hour=0, minute=0, second=0, microsecond=0)
        return Event.timestamp.between(day, day + timedelta(days=1))
    if key == "type":
        return _type_condition(_ints(values, field))
    if key == "source":
        ids = _ints(values, field)
        return Event.source.in_([name for name, i in SOURCE_ID.items() if i in ids])
    if key == "severity":
        return Event.severity.in_(_ints(values, field))
    if key == "alert":
        flag = values[0].lower()
        if flag not in ("true", "false"):
            raise InvalidInput("alert must be true or false", field=field)
        return Event.severity >= 1 if flag == "true" else Event.severity == 0
    if key == "description":
        return like_contains(Event.description, values[0])
    if key == "user":
        own_users = select(User.id).where(User.org_id == org_id)
        names = own_users.where(like_contains(User.username, values[0]))
        return Event.user_id.in_(names)
    # organisation: only one's own is visible, so the filter keeps all or nothing.
    own = select(Organisation.id).where(
        Organisation.id == org_id, like_contains(Organisation.name, values[0])
    )
    return Event.org_id.in_(own)


def _type_condition(ids: set[int]) -> ColumnElement[bool]:
    names = type_names(ids)
    if GENERIC in ids:
        # Type names outside the catalogue are reported as Generic, so they match it too.
        known = [n for n in TYPE_ID if TYPE_ID[n] != GENERIC]
        return or_(Event.event_type.in_(names), Event.event_type.notin_(known))
    return Event.event_type.in_(names)


def users_of(*, session: Session, events: Iterable[Event]) -> dict[int, User]:
    """The acting users of ``events`` in one query, for rendering."""
    ids = {e.user_id for e in events if e.user_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
