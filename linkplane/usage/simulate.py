"""Plausible, deterministic usage for demos: never mistaken for traffic (the CLI says so).

Each device gets a profile from (seed, endpoint) and each day a volume from
(seed, endpoint, day), so re-running with the same seed reproduces every overlapping day.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.devices.models import Endpoint, EndpointStatus
from linkplane.errors import InvalidInput
from linkplane.tenancy.scope import scoped
from linkplane.usage.service import UsageIn, check_days, record_usage, today_utc

#: A typical IoT device: a few MB a day, a long tail of heavier ones.
MEDIAN_DAILY_BYTES = 4_000_000
OFFLINE_SHARE = 0.07
WEEKEND_FACTOR = 0.6


def _device_day(seed: int, endpoint_id: int, day: date) -> UsageIn:
    profile = random.Random(f"{seed}:{endpoint_id}")
    base = profile.lognormvariate(math.log(MEDIAN_DAILY_BYTES), 0.9)
    rx_share = profile.uniform(0.55, 0.9)
    rng = random.Random(f"{seed}:{endpoint_id}:{day.isoformat()}")
    if rng.random() < OFFLINE_SHARE:
        # An explicit zero, so a run with another seed leaves no day of the previous one.
        return UsageIn(endpoint_id=endpoint_id, day=day, bytes_tx=0, bytes_rx=0)
    factor = WEEKEND_FACTOR if day.weekday() >= 5 else 1.0
    total = int(base * factor * rng.uniform(0.5, 1.6))
    rx = int(total * rx_share)
    return UsageIn(endpoint_id=endpoint_id, day=day, bytes_tx=total - rx, bytes_rx=rx)


def simulated_rows(
    *, endpoint_ids: Sequence[int], days: int, seed: int, today: date
) -> list[UsageIn]:
    """A record per device and day of the last ``days`` days up to ``today`` (zero on the
    days a device is offline)."""
    start = today - timedelta(days=days - 1)
    every = [start + timedelta(days=i) for i in range(days)]
    return [_device_day(seed, ep, day) for ep in endpoint_ids for day in every]


def simulate_usage(
    *, session: Session, org_id: int, days: int, seed: int, today: date | None = None
) -> tuple[int, int]:
    """Store simulated records for the organisation's enabled endpoints; (endpoints, rows).

    Days are replaced, not added to, so running it twice leaves the same numbers."""
    check_days(days)
    stmt = scoped(select(Endpoint.id), org_id, Endpoint)
    ids = list(session.scalars(stmt.where(Endpoint.status == EndpointStatus.ENABLED)))
    if not ids:
        raise InvalidInput("the organisation has no enabled endpoints to simulate", field="org")
    rows = simulated_rows(endpoint_ids=ids, days=days, seed=seed, today=today or today_utc())
    written = record_usage(session=session, rows=rows, org_id=org_id, replace=True)
    return len(ids), written
