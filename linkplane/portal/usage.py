"""The portal's two usage questions, answered by the usage feature's service.

Bytes per day of an organisation (the dashboard chart) and bytes this month per endpoint
(the devices table). ``_source`` is the one seam tests may swap for a stand-in.
"""

from __future__ import annotations

from datetime import date
from types import ModuleType

from sqlalchemy.orm import Session

from linkplane.usage import service


def _source() -> ModuleType:
    return service


def daily_usage(*, session: Session, org_id: int, days: int = 30) -> list[tuple[date, int]]:
    rows: list[tuple[date, int]] = _source().daily_usage(session=session, org_id=org_id, days=days)
    return rows


def monthly_usage(*, session: Session, org_id: int, endpoint_ids: list[int]) -> dict[int, int]:
    if not endpoint_ids:
        return {}
    usage: dict[int, int] = _source().monthly_usage(
        session=session, org_id=org_id, endpoint_ids=endpoint_ids
    )
    return usage
