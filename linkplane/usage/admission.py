"""What of the delivered usage the network lets through (``linkplane.access``): records of
an endpoint over its data quota or monthly data limit, or without the Data service, are cut
to what was allowed and the rest is refused with an event, as a real core would have
blocked that traffic. Imports add to a day, so the whole record is the demand; a simulation
replaces a day, so only its growth is (re-running the same seed charges nothing again).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.access.service import DataDemand, Refusal, admit_data
from linkplane.usage.models import UsageRecord

_CHUNK = 500
Key = tuple[int, date]


def _existing(session: Session, values: Sequence[dict[str, Any]]) -> dict[Key, tuple[int, int]]:
    keys = {(v["endpoint_id"], v["day"]) for v in values}
    endpoints = sorted({k[0] for k in keys})
    first, last = min(k[1] for k in keys), max(k[1] for k in keys)
    found: dict[Key, tuple[int, int]] = {}
    for start in range(0, len(endpoints), _CHUNK):
        stmt = select(
            UsageRecord.endpoint_id, UsageRecord.day, UsageRecord.bytes_tx, UsageRecord.bytes_rx
        ).where(
            UsageRecord.endpoint_id.in_(endpoints[start : start + _CHUNK]),
            UsageRecord.day.between(first, last),
        )
        for ep, day, tx, rx in session.execute(stmt):
            if (ep, day) in keys:
                found[(ep, day)] = (int(tx), int(rx))
    return found


def admit(
    session: Session, values: list[dict[str, Any]], *, replace: bool, now: datetime
) -> list[Refusal]:
    """Cut each value row (one endpoint-day, as ``_merge`` built it) to what is admitted."""
    if not values:
        return []
    old = _existing(session, values) if replace else {}
    demands = []
    for v in values:
        o_tx, o_rx = old.get((v["endpoint_id"], v["day"]), (0, 0))
        tx, rx = max(0, v["bytes_tx"] - o_tx), max(0, v["bytes_rx"] - o_rx)
        demands.append(DataDemand(v["endpoint_id"], v["day"], tx, rx))
    grants, refused = admit_data(session=session, demands=demands, now=now)
    for v, demand, grant in zip(values, demands, grants, strict=True):
        o_tx, o_rx = old.get((v["endpoint_id"], v["day"]), (0, 0))
        if demand.tx:
            v["bytes_tx"] = o_tx + grant.tx
        if demand.rx:
            v["bytes_rx"] = o_rx + grant.rx
    return refused
