"""The tunnel watch: VPN tunnels going down or up become events on their breakout.

emnify shows only last-hour metrics; linkplane's users are told. Polling cost stays per
region, as for the shared watch (:mod:`linkplane.attachments.watcher`): every
``vpn_tunnel_watch_seconds`` one DescribeVpnConnections per region (filtered by the TGW)
reads every tunnel's ``VgwTelemetry``; every ``vpn_metrics_seconds`` one GetMetricData per
region (per 150 tunnels) reads the last hour's ``AWS/VPN`` metrics. A change of status is
written to the row (``vpn_tunnels``, which ``GET /breakout/{id}`` shows) with an event in
the same transaction; the row is re-read there, so a pass that raced another executor's
records nothing twice for the same change.

Type 4 failover: the core routes of a BGP HA breakout lead to one of its two connections
(static routes, for BGP containment: see ``workflows/vpn_plan.py``). When that connection
has no tunnel up and the other has one, the pass points the routes at the other
connection's attachment (ReplaceTransitGatewayRoute only: a route a teardown removed
meanwhile is not brought back) and records it on the row with an event (severity 1). A
breakout serving devices in peered regions has the same CIDRs in its region's peering table,
to the routed connection too (linkplane.attachments.crossregion): they move with the core
routes, and their recorded target with them. The device regions' routes lead to the peering,
so nothing changes there.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import crossregion, service
from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import VPN_TYPES, Breakout, BreakoutType, Status
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort, TunnelMetrics, VpnConnection
from linkplane.db import transaction, utcnow
from linkplane.durable.loop import Periodic
from linkplane.logs import get_logger

if TYPE_CHECKING:
    from linkplane.durable.runtime import Runtime

log = get_logger(__name__)

TUNNEL_DOWN = "VPN tunnel down"
TUNNEL_UP = "VPN tunnel up"
#: Statuses whose VPN connection exists and is not being removed.
_WATCHED = (Status.PENDING_EGN_ACTIVATION, Status.PENDING_CRG_ACTIVATION, Status.ACTIVE)


@dataclass(frozen=True)
class Watched:
    breakout_id: int
    region: str
    tgw_id: str
    vpn_ids: tuple[str, ...]  # one connection, two for type 4
    tunnels: tuple[tuple[str, str], ...]  # (VPN connection, outside IP)


def watched(session: Session) -> list[Watched]:
    """Every VPN breakout whose connection exists (columns only: this runs every pass)."""
    stmt = select(Breakout.id, Breakout.region, Breakout.tgw_id, Breakout.vpn_connection_id,
                  Breakout.vpn_connection_id_2, Breakout.vpn_tunnels).where(
        Breakout.type_id.in_([t.value for t in VPN_TYPES]),
        Breakout.status_id.in_([s.value for s in _WATCHED]),
        Breakout.vpn_connection_id.is_not(None), Breakout.delete_requested.is_(False),
    )  # fmt: skip
    return [Watched(bid, region, tgw or "", tuple(v for v in (vpn, vpn_2) if v),
                    tuple((t.get("vpn_connection_id") or vpn, t["outside_ip"])
                          for t in json.loads(ts)))
            for bid, region, tgw, vpn, vpn_2, ts in session.execute(stmt)]  # fmt: skip


def apply_telemetry(session: Session, breakout_id: int, connection: VpnConnection) -> int:
    """Record what changed in ``connection``'s tunnels on the breakout; returns the number of
    status changes (each an event: down is severity 1, a warning)."""
    row = session.get(Breakout, breakout_id, with_for_update=True)
    if row is None or connection.id not in row.vpn_connection_ids:
        return 0
    tunnels = row.tunnel_list
    by_ip = {t.outside_ip: t for t in connection.tunnels}
    changed = 0
    for stored in tunnels:
        if stored.get("vpn_connection_id", connection.id) != connection.id:
            continue  # type 4: the other connection's tunnel
        seen = by_ip.get(stored["outside_ip"])
        if seen is None or seen.status == stored.get("status"):
            continue
        was, stored["status"] = stored.get("status", "DOWN"), seen.status
        stored["last_status_change"] = seen.last_status_change or utcnow().isoformat()
        changed += 1
        up = seen.status == "UP"
        service.record_event(
            session=session, row=row, event_type=TUNNEL_UP if up else TUNNEL_DOWN,
            description=f"VPN tunnel {stored['outside_ip']} is {seen.status} (was {was})"
                        + (f": {seen.status_message}" if seen.status_message else ""),
            detail={"vpn_connection_id": connection.id, "outside_ip": stored["outside_ip"],
                    "from": was, "to": seen.status, "message": seen.status_message},
            severity=0 if up else 1,
        )  # fmt: skip
    if changed:
        row.vpn_tunnels = json.dumps(tunnels)
    return changed


def apply_metrics(session: Session, breakout_id: int, found: list[TunnelMetrics]) -> None:
    """The last hour's bytes in and out of each tunnel, as ``GET`` shows them."""
    row = session.get(Breakout, breakout_id, with_for_update=True)
    if row is None:
        return
    at = utcnow().isoformat()
    by_ip = {m.outside_ip: m for m in found if m.vpn_id in row.vpn_connection_ids}
    tunnels = row.tunnel_list
    for stored in tunnels:
        m = by_ip.get(stored["outside_ip"])
        if m is not None:
            stored.update(bytes_in=m.bytes_in, bytes_out=m.bytes_out, metrics_at=at)
    row.vpn_tunnels = json.dumps(tunnels)


@dataclass(frozen=True)
class Failover:
    """Type 4: point the core routes at connection ``to`` (its attachment)."""

    breakout_id: int
    core_route_table_id: str
    routes: tuple[str, ...]
    to: int
    attachment_id: str
    #: The routes in the region's peering table that lead to the routed connection (devices
    #: in peered regions); they move with the core routes.
    peering: tuple[RemoteRoute, ...] = ()


def _up(tunnels: list[dict[str, object]], vpn_id: str | None) -> bool:
    return any(t.get("status") == "UP" for t in tunnels if t.get("vpn_connection_id") == vpn_id)


def failover_due(row: Breakout) -> Failover | None:
    """Whether an Active type 4 breakout's routed connection is down while the other is up."""
    if (row.type_id != BreakoutType.VPN_BGP_HA or row.status is not Status.ACTIVE
            or row.delete_requested or not row.core_route_table_id):  # fmt: skip
        return None
    routed = row.vpn_routed_connection or 1
    other = 2 if routed == 1 else 1
    ids = {1: (row.vpn_connection_id, row.attachment_id),
           2: (row.vpn_connection_id_2, row.attachment_id_2)}  # fmt: skip
    tunnels, (other_vpn, other_att) = row.tunnel_list, ids[other]
    if not other_att or _up(tunnels, ids[routed][0]) or not _up(tunnels, other_vpn):
        return None
    return Failover(row.id, row.core_route_table_id, tuple(row.route_list), other, other_att,
                    _peering_routes(row, ids[routed][1]))  # fmt: skip


def _peering_routes(row: Breakout, routed: str | None) -> tuple[RemoteRoute, ...]:
    """The row's recorded routes in its own region's tables that lead to ``routed``."""
    return tuple(r for r in crossregion.recorded(row) if r.kind == "tgw"
                 and r.region == row.region and r.target == routed)  # fmt: skip


def record_failover(session: Session, move: Failover, moved: list[str]) -> bool:
    """The routes now lead to connection ``move.to``: the row says so, with an event. False
    when the row changed meanwhile (deleted, or another pass failed it over)."""
    row = session.get(Breakout, move.breakout_id, with_for_update=True)
    if row is None or failover_due(row) != move:
        return False
    row.vpn_routed_connection = move.to
    moving = set(move.peering)
    crossregion.record_routes(row, [replace(r, target=move.attachment_id) if r in moving else r
                                    for r in crossregion.recorded(row)])  # fmt: skip
    service.record_note(
        session=session, row=row, severity=1,
        description=f"VPN failover: no tunnel of the routed connection is up; the core "
                    f"routes now lead to connection {move.to} ({move.attachment_id})",
        detail={"to_connection": move.to, "attachment_id": move.attachment_id,
                "routes": moved, **({"peering_routes": [r.label() for r in move.peering]}
                                    if move.peering else {})},
    )  # fmt: skip
    return True


class TunnelWatch:
    """A supervised thread of the durable runtime, like the shared watch."""

    def __init__(
        self, *, interval: float, metrics_every: float, sessions: sessionmaker[Session],
        cloud: Callable[[str], CloudPort],
    ) -> None:  # fmt: skip
        self.metrics_every = metrics_every
        self._sessions, self._cloud = sessions, cloud
        self._metrics_at: dict[str, float] = {}
        self._loop = Periodic("vpn-tunnel-watch", interval, self.watch_once)

    @classmethod
    def for_runtime(cls, rt: Runtime) -> TunnelWatch:
        s = rt.settings
        return cls(interval=s.vpn_tunnel_watch_seconds, metrics_every=s.vpn_metrics_seconds,
                   sessions=rt.sessions, cloud=rt.clouds)  # fmt: skip

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def watch_once(self, *, metrics: bool | None = None) -> int:
        """One pass over every region with VPN breakouts; returns the status changes seen.
        ``metrics`` forces (True) or skips (False) the metrics read; None: when it is due."""
        with self._sessions() as session:
            found = watched(session)
        by_region: dict[str, list[Watched]] = defaultdict(list)
        for w in found:
            by_region[w.region].append(w)
        changes = 0
        for region, group in by_region.items():
            try:
                changes += self._region(region, group, metrics)
            except CloudError as exc:  # one region's trouble must not stall the others
                log.warning("tunnel watch: region unreadable", region=region, error=str(exc))
        return changes

    def _fail_over(self, port: CloudPort, breakout_id: int) -> None:
        with self._sessions() as session:
            row = session.get(Breakout, breakout_id)
            move = failover_due(row) if row is not None else None
        if move is None:
            return
        moved = [cidr for cidr in move.routes if port.replace_static_route(
            route_table_id=move.core_route_table_id, cidr=cidr,
            attachment_id=move.attachment_id)]  # fmt: skip
        for route in move.peering:  # devices in peered regions: the second hop, here
            port.replace_static_route(route_table_id=route.route_table_id, cidr=route.cidr,
                                      attachment_id=move.attachment_id)  # fmt: skip
        with transaction(self._sessions) as session:
            if record_failover(session, move, moved):
                log.warning("VPN failover", breakout_id=breakout_id, to=move.to)

    def _region(self, region: str, group: list[Watched], metrics: bool | None) -> int:
        port = self._cloud(region)
        connections: dict[str, VpnConnection] = {}
        for tgw_id in {w.tgw_id for w in group}:
            connections.update({c.id: c for c in port.list_vpn_connections(tgw_id=tgw_id)})
        changes = 0
        for w in group:
            for vpn_id in w.vpn_ids:
                connection = connections.get(vpn_id)
                if connection is not None:
                    with transaction(self._sessions) as session:
                        changes += apply_telemetry(session, w.breakout_id, connection)
            if len(w.vpn_ids) > 1:
                self._fail_over(port, w.breakout_id)
        now = time.monotonic()
        due = now - self._metrics_at.get(region, float("-inf")) >= self.metrics_every
        if metrics or (metrics is None and due):
            self._metrics_at[region] = now
            read = port.tunnel_metrics([pair for w in group for pair in w.tunnels])
            for w in group:
                with transaction(self._sessions) as session:
                    apply_metrics(session, w.breakout_id, read)
        return changes
