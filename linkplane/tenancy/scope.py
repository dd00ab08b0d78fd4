"""The one tenancy filter every query of an organisation-owned table goes through.

Usage (any feature's service)::

    stmt = scoped(select(Endpoint), org_id)              # list
    endpoint = get_scoped(session, Endpoint, org_id, endpoint_id)  # one, or NotFound

A row of another organisation is indistinguishable from a missing row: both raise
:class:`NotFound` (HTTP 404), never 403, so ids of other tenants leak nothing.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from linkplane.errors import NotFound
from linkplane.tenancy.principal import Principal


class OrgOwned(Protocol):
    """Any mapped class with an ``org_id`` column."""

    org_id: Any


M = TypeVar("M")
S = TypeVar("S", bound=Select[Any])


def _org(owner: Principal | int) -> int:
    return owner.org_id if isinstance(owner, Principal) else owner


def _entity(stmt: Select[Any]) -> Any:
    entity = stmt.column_descriptions[0].get("entity")
    if entity is None or not isinstance(getattr(entity, "org_id", None), InstrumentedAttribute):
        raise TypeError(f"scoped() needs a select of an org-owned model, got {entity!r}")
    return entity


def scoped(stmt: S, owner: Principal | int, model: type[Any] | None = None) -> S:
    """``stmt`` restricted to the rows of ``owner``'s organisation (by ``model.org_id``)."""
    target = model if model is not None else _entity(stmt)
    result: S = stmt.where(target.org_id == _org(owner))
    return result


def get_scoped(
    session: Session,
    model: type[M],
    owner: Principal | int,
    obj_id: int,
    *,
    what: str | None = None,
    field: str | None = None,
) -> M:
    """The row ``obj_id`` of ``model`` if it belongs to ``owner``'s organisation, else 404."""
    obj = session.get(model, obj_id)
    if obj is None or getattr(obj, "org_id", None) != _org(owner):
        label = what or getattr(model, "__tablename__", model.__name__)
        raise NotFound(f"{label} {obj_id} not found", field=field)
    return obj
