"""emnify-style pagination: ``page``/``per_page`` in, totals in response headers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Response

from linkplane.errors import InvalidInput

MAX_PER_PAGE = 1000


@dataclass(frozen=True)
class PageParams:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def page_params(
    page: Annotated[int, Query(ge=1, le=10_000_000, description="1-based page number")] = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page (max 1000)")
    ] = 1000,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


def set_page_headers(response: Response, params: PageParams, total: int) -> None:
    """Write the headers emnify clients read: totals, current page and page size."""
    pages = max(1, math.ceil(total / params.per_page))
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Total-Pages"] = str(pages)
    response.headers["X-Current-Page"] = str(params.page)
    response.headers["X-Count-Per-Page"] = str(params.per_page)


# --- emnify ``q`` filters and ``sort`` ------------------------------------------------------

Q_PARAM = Query(
    None, max_length=2000, description="Filters as comma-separated `<field>:<value>` pairs"
)
SORT_PARAM = Query(
    None, max_length=500, description="Comma-separated fields, `-` prefix for descending"
)


def parse_q(raw: str | None, allowed: set[str], max_values: int = 6) -> dict[str, list[str]]:
    """``q=status:1,name:foo|bar`` -> ``{"status": ["1"], "name": ["foo", "bar"]}``.

    Unknown filters and malformed pairs are refused (422 naming ``q.<field>``), never ignored,
    so a typo cannot silently widen a result.
    """
    result: dict[str, list[str]] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition(":")
        key = key.strip()
        if not sep or not value.strip():
            raise InvalidInput(f"filter {part!r} must look like <field>:<value>", field="q")
        if key not in allowed:
            names = ", ".join(sorted(allowed))
            raise InvalidInput(f"unknown filter {key!r}; allowed: {names}", field=f"q.{key}")
        values = [v.strip() for v in value.split("|") if v.strip()]
        if len(values) > max_values:
            raise InvalidInput(f"at most {max_values} values per filter", field=f"q.{key}")
        result[key] = values
    return result


def parse_sort(raw: str | None, allowed: set[str]) -> list[tuple[str, bool]]:
    """``sort=-created,name`` -> ``[("created", True), ("name", False)]`` (True = descending)."""
    result: list[tuple[str, bool]] = []
    for part in (raw or "").split(","):
        item = part.strip()
        if not item:
            continue
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()
        if name not in allowed:
            names = ", ".join(sorted(allowed))
            raise InvalidInput(f"cannot sort by {name!r}; allowed: {names}", field="sort")
        result.append((name, desc))
    return result
