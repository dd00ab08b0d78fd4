"""Plausible, deterministic usage for demos: never mistaken for traffic (the CLI says so).

The simulated devices attach to a visited network first (``linkplane.access.network``):
one refused there (disabled, no usable SIM, blocked operator or RAT) gets no traffic, and
the traffic of the others is admitted as far as quotas and limits allow.

Each device gets a profile from (seed, endpoint) and each day a volume from
(seed, endpoint, day), so re-running with the same seed reproduces every overlapping day.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.access.network import Network, attach_refusal, record_refusal
from linkplane.access.service import Refusal
from linkplane.devices.models import Endpoint, EndpointStatus
from linkplane.errors import InvalidInput
from linkplane.profiles.models import ServiceProfile
from linkplane.sims.models import Sim
from linkplane.tenancy.scope import scoped
from linkplane.usage.service import UsageIn, check_days, store_usage, today_utc

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


@dataclass(frozen=True)
class Simulation:
    endpoints: int
    written: int
    #: Endpoints the visited network refused to attach (endpoint id, why): no traffic.
    not_attached: list[tuple[int, str]]
    #: Traffic of attached endpoints cut by quotas or limits.
    refused: list[Refusal]


def _attached(
    session: Session, org_id: int, network: Network
) -> tuple[list[int], list[tuple[int, str]]]:
    """The organisation's enabled endpoints that may attach to ``network``, and the others
    with the reason (each refusal is an event)."""
    stmt = scoped(select(Endpoint, Sim, ServiceProfile), org_id, Endpoint)
    stmt = stmt.join(ServiceProfile, ServiceProfile.id == Endpoint.service_profile_id)
    stmt = stmt.outerjoin(Sim, Sim.id == Endpoint.sim_id)
    stmt = stmt.where(Endpoint.status == EndpointStatus.ENABLED).order_by(Endpoint.id)
    ok, refused = [], []
    for endpoint, sim, profile in session.execute(stmt).tuples():
        why = attach_refusal(session=session, endpoint=endpoint, sim=sim, profile=profile,
                             network=network)  # fmt: skip
        if why is None:
            ok.append(endpoint.id)
            continue
        record_refusal(session=session, endpoint=endpoint, network=network, reason=why,
                       activity="data session")  # fmt: skip
        refused.append((endpoint.id, why))
    return ok, refused


def simulate_usage(
    *, session: Session, org_id: int, days: int, seed: int, today: date | None = None,
    network: Network | None = None,
) -> Simulation:  # fmt: skip
    """Store simulated records for the organisation's enabled endpoints that attach to
    ``network`` (default: what connectivity reports), as far as quotas and limits admit.

    Days are replaced, not added to, so running it twice leaves the same numbers."""
    check_days(days)
    ids, not_attached = _attached(session, org_id, network or Network())
    if not ids and not not_attached:
        raise InvalidInput("the organisation has no enabled endpoints to simulate", field="org")
    if not ids:
        return Simulation(0, 0, not_attached, [])
    rows = simulated_rows(endpoint_ids=ids, days=days, seed=seed, today=today or today_utc())
    result = store_usage(session=session, rows=rows, org_id=org_id, replace=True)
    return Simulation(len(ids), result.written, not_attached, result.refused)
