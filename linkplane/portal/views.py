"""Rendering: the template environment, display formatting and small view models.

Nothing here decides anything about devices or breakouts; it only shapes what the services
returned for people to read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from linkplane.portal import sessions
from linkplane.tenancy.principal import Principal
from linkplane.text import TEXT_FORBIDDEN

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

#: Rows-per-page choices of the tables, as in the talk's "Connected Devices" screenshot.
PER_PAGE_CHOICES: tuple[int, ...] = (5, 10, 25, 50)
DEFAULT_PER_PAGE = 10


def human_bytes(value: float | int | None) -> str:
    """Sizes as the talk's table shows them ("60 MB"); zero or unknown reads "no usage"."""
    if not value:
        return "no usage"
    size = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit in ("B", "kB", "MB") else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - loop always returns


def fmt_datetime(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_time(value: datetime) -> str:
    """Timeline entries: a breakout moves through several states within seconds."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_date(value: date | datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d")


def visible_controls(value: Any) -> Any:
    """Every value a template prints: control characters and bidirectional overrides become
    visible ``\\uXXXX`` text. HTML escaping leaves them alone, and a stored name (from
    before the API refused them, or from an import) would otherwise reorder or hide what
    the page shows."""
    if isinstance(value, str) and not isinstance(value, Markup) and CONTROL.search(value):
        return CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
    return value


CONTROL = TEXT_FORBIDDEN
templates.env.finalize = visible_controls
templates.env.filters["bytes"] = human_bytes
templates.env.filters["dt"] = fmt_datetime
templates.env.filters["d"] = fmt_date
templates.env.filters["ts"] = fmt_time


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    /,
    **context: Any,
) -> HTMLResponse:
    """Render a page; every page gets the principal and its CSRF token for its forms."""
    token = sessions.session_token(request)
    base = {
        "principal": principal,
        "can_write": bool(principal and principal.can_write),
        "csrf_field": sessions.CSRF_FIELD,
        "csrf_token": sessions.csrf_for_session(token) if token else "",
        "path": request.url.path,
    }
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


@dataclass(frozen=True)
class Pager:
    """One table page: the "1-5 from 9" line and the links around it."""

    page: int
    per_page: int
    total: int
    base_query: dict[str, str]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def summary(self) -> str:
        return f"{self.first}-{self.last} from {self.total}"

    def url(self, page: int) -> str:
        query = {**self.base_query, "page": str(page), "per_page": str(self.per_page)}
        return "?" + urlencode({k: v for k, v in query.items() if v})

    @property
    def prev_url(self) -> str | None:
        return self.url(self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.page + 1) if self.page < self.pages else None


def clamp_per_page(value: int | None) -> int:
    return value if value in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn as server-side SVG, so the dashboard needs no chart library."""

    bars: list[Bar]
    width: int
    height: int
    peak: int


def bar_chart(points: list[tuple[str, int]], width: int = 640, height: int = 200) -> Chart:
    peak = max((v for _, v in points), default=0) or 1
    slot = width / max(1, len(points))
    bars = []
    for i, (label, value) in enumerate(points):
        h = (height - 20) * value / peak
        bars.append(Bar(label, value, i * slot + slot * 0.1, height - 20 - h, slot * 0.8, h))
    return Chart(bars=bars, width=width, height=height, peak=peak)
