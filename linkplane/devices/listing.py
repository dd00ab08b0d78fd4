"""emnify list queries: ``q=<field>:<value>,...`` filters and ``sort=-a,b`` ordering.

Each resource declares the fields it accepts; anything else is refused naming the field, so a
typo never silently returns the unfiltered list. Shared by the endpoint and SIM lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, UnaryExpression, func, select
from sqlalchemy.orm import Session

from linkplane.db import like_contains
from linkplane.errors import InvalidInput
from linkplane.ids import bounded_int


@dataclass(frozen=True)
class FilterField:
    column: Any
    parse: Callable[[str], Any] = str
    #: Text fields match a substring, as emnify's portal search does; others match exactly.
    contains: bool = False
    #: ``<field>:null`` selects rows where the column is empty (emnify's ``endpoint:null``).
    nullable: bool = False

    def condition(self, raw: str) -> ColumnElement[bool]:
        if self.nullable and raw.lower() == "null":
            result: ColumnElement[bool] = self.column.is_(None)
            return result
        value = self.parse(raw)
        if self.contains:
            return like_contains(self.column, str(value), case_sensitive=True)
        eq: ColumnElement[bool] = self.column == value
        return eq


def parse_int(raw: str) -> int:
    return bounded_int(raw)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def filters(q: str | None, fields: Mapping[str, FilterField]) -> list[ColumnElement[bool]]:
    """Conditions for ``q``; unknown fields or unparsable values -> InvalidInput(field="q")."""
    if not q:
        return []
    conditions: list[ColumnElement[bool]] = []
    unknown: list[str] = []
    for part in _split(q):
        name, sep, raw = part.partition(":")
        spec = fields.get(name.strip())
        if spec is None or not sep:
            unknown.append(name.strip())
            continue
        try:
            conditions.append(spec.condition(raw.strip()))
        except ValueError:
            raise InvalidInput(f"invalid value {raw!r} for filter {name!r}", field="q") from None
    if unknown:
        raise InvalidInput(
            f"unknown filter field(s): {', '.join(unknown)}; allowed: {', '.join(fields)}",
            field="q",
        )
    return conditions


def ordering(
    sort: str | None, fields: Mapping[str, Any], id_column: Any
) -> list[UnaryExpression[Any]]:
    """ORDER BY terms for ``sort``; ties (and no sort) fall back to ascending id."""
    terms: list[UnaryExpression[Any]] = []
    unknown: list[str] = []
    for part in _split(sort or ""):
        desc = part.startswith("-")
        name = part.lstrip("+-").strip()
        column = fields.get(name)
        if column is None:
            unknown.append(name)
            continue
        terms.append(column.desc() if desc else column.asc())
    if unknown:
        raise InvalidInput(
            f"unknown sort field(s): {', '.join(unknown)}; allowed: {', '.join(fields)}",
            field="sort",
        )
    if not any(term.element is id_column for term in terms):
        terms.append(id_column.asc())
    return terms


def page(
    session: Session, keys: Select[tuple[int]], order: list[UnaryExpression[Any]], offset: int,
    limit: int,
) -> tuple[list[int], int]:  # fmt: skip
    """The ids of one page and the total: the first half of a "deferred join".

    ``keys`` selects only the id with the filters, so a deep OFFSET walks a covering index
    (``org_id, <sort>, id``) instead of building and discarding joined rows one by one; the
    caller then loads just these rows by primary key. A short page is the last one, so its
    total is known without counting (every small organisation's list costs no count).
    """
    ids = list(session.scalars(keys.order_by(*order).offset(offset).limit(limit)))
    if len(ids) < limit and (ids or offset == 0):
        return ids, offset + len(ids)
    counted = session.scalar(keys.with_only_columns(func.count(), maintain_column_froms=True))
    return ids, int(counted or 0)


def count(session: Session, stmt: Select[Any]) -> int:
    """Total rows of a filtered query, counted by the database without loading rows."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(total or 0)


def field_names(q: str | None) -> set[str]:
    """The field names a ``q`` string mentions (for deciding which joins a count needs)."""
    return {part.partition(":")[0].strip() for part in _split(q or "")}
