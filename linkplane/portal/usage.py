"""The seam to a data-usage source, which linkplane does not have yet.

The portal asks two questions: bytes per day of an organisation (the dashboard chart) and
bytes this month per endpoint (the devices table). A usage feature answers them by providing
``linkplane.usage.service`` with ``daily_usage(*, session, org_id, days) -> list[(date, int)]``
and ``monthly_usage(*, session, org_id, endpoint_ids) -> dict[int, int]``. Until it exists the
portal shows "No usage data yet" and "no usage", rather than invented numbers.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType

from sqlalchemy.orm import Session


def _source() -> ModuleType | None:
    try:
        from linkplane.usage import service  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    module: ModuleType = service
    return module


def daily_usage(*, session: Session, org_id: int, days: int = 30) -> list[tuple[date, int]]:
    source = _source()
    if source is None:
        return []
    rows: list[tuple[date, int]] = source.daily_usage(session=session, org_id=org_id, days=days)
    return rows


def monthly_usage(*, session: Session, org_id: int, endpoint_ids: list[int]) -> dict[int, int]:
    source = _source()
    if source is None or not endpoint_ids:
        return {}
    usage: dict[int, int] = source.monthly_usage(
        session=session, org_id=org_id, endpoint_ids=endpoint_ids
    )
    return usage
