"""emnify-style pagination: ``page``/``per_page`` in, totals in response headers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query, Response

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
