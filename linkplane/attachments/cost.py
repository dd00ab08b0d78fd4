"""What Cloud Connect costs: the provider's monthly price per breakout type (emnify's
``/cnc/pricing``, a setting) and, beyond emnify, each breakout's own AWS cost so far at AWS
list prices (a setting; us-east-2 by default: $0.05 per attachment-hour, $0.02 per GB).

The attachment-hours are the hours the breakout was Active (from its state history). AWS
meters data per attachment, which linkplane does not read back: the GB are the devices'
traffic of the organisation's endpoints whose service profile allows Cloud Connect (the
usage records), each day shared equally by the organisation's breakouts active that day.
An estimate, labelled as such wherever it is shown.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.attachments.models import Breakout, BreakoutType, Status
from linkplane.attachments.service import ENTITY, get_breakout
from linkplane.db import utcnow
from linkplane.devices.models import Endpoint
from linkplane.events.models import Event
from linkplane.profiles.models import ServiceProfile
from linkplane.settings import Settings
from linkplane.usage.models import UsageRecord

GB = 10**9
#: Types whose breakout is a VPN connection on the TGW (one connection-hour on top).
VPN_TYPES = frozenset({BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA})


@dataclass(frozen=True)
class Price:
    breakout_type_id: int
    amount: float
    currency_id: int


def prices(settings: Settings) -> list[Price]:
    """The provider's monthly price per breakout type, lowest type first."""
    return [Price(t, amount, settings.cnc_price_currency_id)
            for t, amount in sorted(settings.cnc_monthly_prices.items())]  # fmt: skip


@dataclass(frozen=True)
class BreakoutCost:
    breakout_id: int
    active_hours: float
    data_gb: float
    attachment_usd: float
    vpn_usd: float
    data_usd: float
    since: datetime | None

    @property
    def total_usd(self) -> float:
        return self.attachment_usd + self.vpn_usd + self.data_usd


Interval = tuple[datetime, datetime]


def _active_intervals(events: list[Event], end: datetime) -> list[Interval]:
    """When the breakout was Active, from the status changes in its history."""
    intervals: list[Interval] = []
    since: datetime | None = None
    for event in events:
        to = json.loads(event.detail or "{}").get("to")
        if to is None:
            continue  # a note (an AWS resource), not a status change
        if to == Status.ACTIVE and since is None:
            since = event.timestamp
        elif to != Status.ACTIVE and since is not None:
            intervals.append((since, event.timestamp))
            since = None
    if since is not None:
        intervals.append((since, end))
    return intervals


def _days(intervals: list[Interval]) -> set[date]:
    days: set[date] = set()
    for start, stop in intervals:
        day = start.date()
        while day <= stop.date():
            days.add(day)
            day += timedelta(days=1)
    return days


def _org_intervals(session: Session, org_id: int, now: datetime) -> dict[int, list[Interval]]:
    """Every breakout of the organisation that was ever Active, with its intervals (one
    query over the status history)."""
    stmt = (
        select(Event)
        .where(Event.org_id == org_id, Event.entity_type == ENTITY, Event.entity_id.is_not(None))
        .order_by(Event.id)
    )
    by_breakout: dict[int, list[Event]] = defaultdict(list)
    for event in session.scalars(stmt):
        by_breakout[int(event.entity_id or 0)].append(event)
    found = {b: _active_intervals(events, now) for b, events in by_breakout.items()}
    return {b: intervals for b, intervals in found.items() if intervals}


def _cloud_connect_bytes(session: Session, org_id: int, days: set[date]) -> dict[date, int]:
    """Per day, the traffic of the organisation's endpoints allowed to use Cloud Connect."""
    if not days:
        return {}
    total = func.sum(UsageRecord.bytes_tx + UsageRecord.bytes_rx)
    stmt = (
        select(UsageRecord.day, total)
        .join(Endpoint, Endpoint.id == UsageRecord.endpoint_id)
        .join(ServiceProfile, ServiceProfile.id == Endpoint.service_profile_id)
        .where(UsageRecord.org_id == org_id, ServiceProfile.allow_cloud_connect.is_(True),
               UsageRecord.day.between(min(days), max(days)))
        .group_by(UsageRecord.day)
    )  # fmt: skip
    return {day: int(n or 0) for day, n in session.execute(stmt) if day in days}


def breakout_cost(
    *, session: Session, settings: Settings, org_id: int, breakout_id: int,
    now: datetime | None = None,
) -> BreakoutCost:  # fmt: skip
    """The breakout's AWS cost so far at list prices (see the module docstring)."""
    row: Breakout = get_breakout(session=session, org_id=org_id, breakout_id=breakout_id)
    moment = now or utcnow()
    everyone = _org_intervals(session, org_id, moment)
    mine = everyone.get(row.id, [])
    hours = sum((stop - start).total_seconds() for start, stop in mine) / 3600
    my_days = _days(mine)
    sharing: dict[date, int] = defaultdict(int)
    for intervals in everyone.values():
        for day in _days(intervals) & my_days:
            sharing[day] += 1
    traffic = _cloud_connect_bytes(session, org_id, my_days)
    gb = sum(n / sharing[day] for day, n in traffic.items()) / GB
    connections = 2 if row.type_id == BreakoutType.VPN_BGP_HA else 1  # HA: two connections
    vpn = (hours * connections * settings.aws_vpn_connection_hour_usd
           if row.type_id in VPN_TYPES else 0.0)  # fmt: skip
    return BreakoutCost(
        breakout_id=row.id, active_hours=hours, data_gb=gb,
        attachment_usd=hours * settings.aws_tgw_attachment_hour_usd, vpn_usd=vpn,
        data_usd=gb * settings.aws_tgw_data_gb_usd,
        since=mine[0][0] if mine else None,
    )  # fmt: skip
