"""The dashboard's figures, gathered from the features' own list functions.

Counts come from the same filtered lists the API serves (asking for zero rows and reading the
total), so the dashboard can never disagree with the tables or the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from linkplane.attachments import service as breakouts
from linkplane.attachments.models import STATUS_DESCRIPTION
from linkplane.devices import service as devices
from linkplane.devices.models import EndpointStatus
from linkplane.portal import usage
from linkplane.sims import service as sims
from linkplane.sims.models import SimStatus
from linkplane.tenancy.principal import Principal

#: Days of usage the chart shows.
USAGE_DAYS = 30


@dataclass(frozen=True)
class Summary:
    devices: list[tuple[str, int]] = field(default_factory=list)
    sims: list[tuple[str, int]] = field(default_factory=list)
    breakouts: list[tuple[str, int]] = field(default_factory=list)
    #: (day, bytes), oldest first; empty until a usage source records any.
    usage: list[tuple[str, int]] = field(default_factory=list)


def _device_counts(session: Session, org_id: int) -> list[tuple[str, int]]:
    counts = []
    for status in (EndpointStatus.ENABLED, EndpointStatus.DISABLED):
        _, total = devices.list_endpoints(
            session=session, org_id=org_id, offset=0, limit=0, q=f"status:{int(status)}"
        )
        counts.append((status.description, total))
    return counts


def _sim_counts(session: Session, org_id: int) -> list[tuple[str, int]]:
    counts = []
    for status in SimStatus:
        _, total = sims.list_sims(
            session=session, org_id=org_id, offset=0, limit=0, q=f"status:{int(status)}"
        )
        counts.append((status.description, total))
    return counts


def _breakout_counts(session: Session, org_id: int) -> list[tuple[str, int]]:
    counts = []
    for status, label in STATUS_DESCRIPTION.items():
        _, total = breakouts.list_breakouts(
            session=session, org_id=org_id, status_id=int(status), limit=0
        )
        counts.append((label, total))
    return counts


def summary(*, session: Session, principal: Principal) -> Summary:
    org_id = principal.org_id
    daily = usage.daily_usage(session=session, org_id=org_id, days=USAGE_DAYS)
    return Summary(
        devices=[c for c in _device_counts(session, org_id) if c[1]],
        sims=[c for c in _sim_counts(session, org_id) if c[1]],
        breakouts=[c for c in _breakout_counts(session, org_id) if c[1]],
        usage=[(day.strftime("%m-%d"), n) for day, n in daily] if any(n for _, n in daily) else [],
    )
