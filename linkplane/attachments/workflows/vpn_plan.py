"""The VPN plan (types 2 static, 3 BGP, 4 BGP HA): customer gateway -> VPN connection on the
region's TGW -> wait until AWS has it available and its ``vpn`` attachment is listed -> associate
with the customers table -> a static route per declared ``on_prem_cidr`` in the core table
-> the routes for the organisation's devices in peered regions, as a TGW breakout's
(linkplane.attachments.crossregion) -> Active. No customer action is awaited. Teardown
undoes what the row records, in reverse.
Type 4 (BGP HA): the TGW's ECMP checked first, then a customer gateway and VPN connection per
customer server (steps "... 2" for the second), both attachments associated; the core routes
lead to one connection at a time.

BGP containment: the VPN attachment never propagates into the core table (the TGW has
default propagation off and linkplane never enables one); only the declared CIDRs reach the
core, as static routes. Whatever the customer's router advertises stays in the VPN
attachment's own view; the audit flags any other core route to a VPN attachment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dbos import DBOS
from sqlalchemy.orm import Session

from linkplane.attachments import records, vpn
from linkplane.attachments.models import Breakout, BreakoutType
from linkplane.attachments.records import Plan, Resources, Stop, StopKind, VpnSpec
from linkplane.attachments.workflows.tgw import (
    GONE_STATES,
    _Backoff,
    _route,
    _Undo,
    _unroute,
    _vpc_route,
    _vpc_unroute,
    route_other_regions,
    unroute_other_regions,
)
from linkplane.cloud.port import CloudPort, TunnelSpec, VpnConnection
from linkplane.durable import steps
from linkplane.durable.runtime import Runtime

_GONE_VPN = frozenset({"deleting", "deleted"})
#: The step sequence new VPN plans get (see ``Plan.sequence``): 2 adds the routes for the
#: organisation's devices in peered regions before "activate". A plan checkpointed before
#: (sequence 1) replays without that step, since DBOS replays a workflow by the names of its
#: recorded steps; the sweep's rerouting gives such a breakout its cross-region routes.
SEQUENCE = 2


class VpnPlan:
    """Attachment types 2 and 3: an AWS Site-to-Site VPN connection on the shared TGW; type 4:
    two of them, each on its own customer gateway."""

    type_ids = frozenset({BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA})

    def plan(self, session: Session, row: Breakout, installation: str) -> Plan:
        return replace(records.vpn_plan(session, row, installation), sequence=SEQUENCE)

    async def provision(self, rt: Runtime, plan: Plan) -> None:
        await _provision(rt, plan)

    async def teardown(self, rt: Runtime, res: Resources) -> list[str]:
        return await teardown(rt, res)


#: Which of a type 4 breakout's two connections a customer gateway or VPN connection is (the
#: idempotent look-ups go by tags: without it the second create would find the first one).
CONNECTION_TAG = "linkplane:vpn-connection"


def connection_tags(plan: Plan, n: int) -> dict[str, str]:
    return {**plan.tags, CONNECTION_TAG: str(n)}


def device_name(plan: Plan, n: int = 1) -> str:
    """Tells this breakout's customer gateway apart from another one on the same IP and ASN
    (AWS answers an identical CreateCustomerGateway with the existing gateway)."""
    base = f"linkplane-{plan._prefix}breakout-{plan.breakout_id}-r{plan.revision}"
    return base if n == 1 else f"{base}-{n}"


# --- provisioning ---------------------------------------------------------------------------
def _named(name: str, n: int) -> str:
    """The step name for connection ``n``: the first keeps the plain names of types 2-3."""
    return name if n == 1 else f"{name} {n}"


async def _provision(rt: Runtime, plan: Plan) -> None:
    spec = plan.vpn
    if spec is None:
        raise Stop(StopKind.FAILED, f"breakout {plan.breakout_id} has no VPN request")
    await steps.db(rt, "vpn_start", lambda s: records.start_vpn(s, plan))
    if len(spec.connections) > 1:
        await steps.cloud(rt, "ecmp", plan.region, _ensure_ecmp(plan.tgw_id))
    made = [await _connection(rt, plan, spec, n) for n in spec.connections]
    attachment_ids = [await _wait_available(rt, plan, vpn_id, _named("vpn_state", n))
                      for n, vpn_id in zip(spec.connections, made, strict=True)]  # fmt: skip
    await steps.db(rt, "claim", lambda s: records.record_vpn_attachment(s, plan, attachment_ids))
    await steps.db(rt, "routing", lambda s: records.start_routing(s, plan))
    for n, attachment_id in zip(spec.connections, attachment_ids, strict=True):
        await steps.cloud(rt, _named("associate", n), plan.region, _associate(plan, attachment_id))
    # The core routes lead to the first connection: AWS has no static route to two
    # attachments, and ECMP over propagated routes would let the customer's BGP announce
    # anything into the shared core table. The second connection is the standby the tunnel
    # watch fails over to (linkplane.attachments.tunnels).
    for cidr in plan.cidrs:
        await steps.cloud(rt, f"route {cidr}", plan.region, _route(plan, cidr, attachment_ids[0]))
    for cidr in plan.vpc_route_cidrs:
        await steps.cloud(rt, f"vpc route {cidr}", plan.region, _vpc_route(plan, cidr))
    # Devices of the organisation in peered regions: as for a TGW breakout, the peering
    # table's routes lead to the routed connection (the first, until a failover).
    if plan.sequence >= 2:
        await route_other_regions(rt, plan)
    await steps.db(rt, "activate", lambda s: records.activate(s, plan))
    await steps.routing_changed(rt)  # e.g. isolation: the devices may now reach the CIDRs


def _ensure_ecmp(tgw_id: str) -> Callable[[CloudPort], bool]:
    """Type 4: the region's TGW must spread traffic over both VPN connections' BGP routes
    (``VpnEcmpSupport``; linkplane's own TGWs have it, an adopted one may not)."""

    def call(port: CloudPort) -> bool:
        tgw = port.describe_transit_gateway(tgw_id)
        if tgw is None:
            raise Stop(StopKind.FAILED, f"the transit gateway {tgw_id} is gone")
        if not tgw.vpn_ecmp_support:
            port.enable_vpn_ecmp(tgw_id)
        return True

    return call


def _associate(plan: Plan, attachment_id: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.associate_route_table(route_table_id=plan.customers_route_table_id,
                                   attachment_id=attachment_id)  # fmt: skip

    return call


async def _connection(rt: Runtime, plan: Plan, spec: VpnSpec, n: int) -> str:
    """Customer gateway ``n`` and its VPN connection, each recorded once made."""
    ip = spec.public_ip_of(n)
    gateway = await steps.cloud(rt, _named("customer_gateway", n), plan.region, lambda c: (
        c.ensure_customer_gateway(public_ip=ip, asn=spec.asn, device_name=device_name(plan, n),
                                  tags=connection_tags(plan, n))))  # fmt: skip
    gateway_id = gateway.id
    await steps.db(rt, _named("record_cgw", n),
                   lambda s: records.record_customer_gateway(s, plan, gateway_id, n))  # fmt: skip
    psk_key = rt.settings.signing_key()
    inside = spec.inside_cidrs_of(n)

    def connect(c: CloudPort) -> VpnConnection:
        # Unsealed inside the step and left out of its result: the durable engine checkpoints
        # a step's result and a workflow's inputs in clear.
        psk = vpn.unseal_psk(spec.sealed_psk, signing_key=psk_key)
        tunnels = tuple(TunnelSpec(psk, cidr) for cidr in (*inside, "", "")[:2])
        return without_psk(c.ensure_vpn_connection(
            customer_gateway_id=gateway_id, tgw_id=plan.tgw_id,
            static_routes_only=spec.static_routes_only, tunnels=tunnels,
            tags=connection_tags(plan, n)))

    made = await steps.cloud(rt, _named("vpn_connection", n), plan.region, connect)
    seen = tunnels_of(made)
    await steps.db(rt, _named("record_vpn", n),
                   lambda s: records.record_vpn_connection(s, plan, made.id, seen, n))  # fmt: skip
    return made.id


def without_psk(connection: VpnConnection) -> VpnConnection:
    return replace(connection, tunnels=tuple(replace(t, psk="") for t in connection.tunnels))


def tunnels_of(connection: VpnConnection) -> list[dict[str, object]]:
    """A connection's tunnels as the row keeps them (the PSK stays on the row's own column)."""
    return [{"vpn_connection_id": connection.id, "outside_ip": t.outside_ip,
             "inside_cidr": t.inside_cidr, "status": t.status,
             "last_status_change": t.last_status_change or None}
            for t in connection.tunnels]  # fmt: skip


def _available(vpn_id: str, tgw_id: str) -> Callable[[CloudPort], tuple[str, str | None]]:
    """The connection's state, and its ``vpn`` attachment once it is available."""

    def call(port: CloudPort) -> tuple[str, str | None]:
        found = port.describe_vpn_connection(vpn_id)
        state = found.state if found else "deleted"
        if state != "available":
            return state, None
        attachment = port.vpn_attachment(tgw_id=tgw_id, vpn_id=vpn_id)
        ready = attachment is not None and attachment.state == "available"
        return state, attachment.id if attachment is not None and ready else None

    return call


async def _wait_available(rt: Runtime, plan: Plan, vpn_id: str, name: str) -> str:
    """AWS takes minutes to bring a VPN connection up; the embedded cloud one read."""
    backoff = _Backoff(rt.settings, maximum=15.0)
    start: float | None = None
    while True:
        (state, attachment_id), now = await steps.cloud_now(
            rt, name, plan.region, _available(vpn_id, plan.tgw_id)
        )
        start = now if start is None else start
        if attachment_id is not None:
            return attachment_id
        if state in _GONE_VPN or state in GONE_STATES:
            raise Stop(StopKind.FAILED, f"the VPN connection became {state} while being created")
        deadline = start + rt.settings.breakout_activation_timeout_seconds
        if now >= deadline:
            raise Stop(StopKind.FAILED, f"the VPN connection stayed {state}; AWS did not "
                       "make it available")  # fmt: skip
        await backoff.wait(now, deadline)


# --- teardown -------------------------------------------------------------------------------
def _vpn_state(vpn_id: str) -> Callable[[CloudPort], str]:
    def call(port: CloudPort) -> str:
        found = port.describe_vpn_connection(vpn_id)
        return found.state if found else "deleted"

    return call


async def _wait_deleted(rt: Runtime, undo: _Undo, region: str, vpn_id: str, name: str
                        ) -> bool:  # fmt: skip
    """AWS keeps a deleted connection ``deleting`` for a while and refuses to delete its
    customer gateway meanwhile: wait (a durable sleep) until it is ``deleted``."""
    start: float | None = None
    delay = rt.settings.breakout_poll_initial_seconds
    while True:
        state, now = await steps.cloud_now(rt, name, region, _vpn_state(vpn_id))
        if state == "deleted":
            return True
        start = now if start is None else start
        if now - start >= rt.settings.breakout_activation_timeout_seconds:
            await undo.failed(name.replace("vpn_deleted", "delete_vpn"),
                              f"the VPN connection stayed {state}")  # fmt: skip
            return False
        await DBOS.sleep_async(delay)
        delay = min(delay * 2, 15.0)



async def teardown(rt: Runtime, res: Resources) -> list[str]:
    """Routes, associations, VPN connections (their attachments go with them), customer
    gateways: the reverse of provisioning, each an idempotent step with its event."""
    undo = _Undo(rt, res.breakout_id, res.region)
    await unroute_other_regions(undo, res)
    routes_gone = True
    for cidr in reversed(res.vpc_routes):
        routes_gone &= await undo(f"vpc unroute {cidr}", _vpc_unroute(res.core_vpc_id, cidr))
    if res.routes and res.core_route_table_id:
        rt_id = res.core_route_table_id
        for cidr in reversed(res.routes):
            routes_gone &= await undo(f"unroute {cidr}", _unroute(rt_id, cidr))
        if routes_gone:
            await undo.forget("routes", "Static routes removed from the core route table",
                              {"core_route_table_id": rt_id, "routes": list(res.routes)})
    await _disassociate(undo, res)
    connections = ((1, res.vpn_connection_id, res.attachment_id, res.customer_gateway_id),
                   (2, res.vpn_connection_id_2, res.attachment_id_2, res.customer_gateway_id_2))
    gone = {n: await _delete_connection(rt, undo, res.region, n, vpn_id, att)
            for n, vpn_id, att, _cgw in connections}  # fmt: skip
    for n, _vpn_id, _att, cgw in connections:
        # AWS refuses to delete a customer gateway its VPN still uses: kept for the sweep.
        if cgw and gone[n] and await undo(_named("delete_cgw", n), _delete_cgw(cgw)):
            await undo.forget(_named("customer_gateway", n).replace(" ", "_"),
                              "Customer gateway deleted", {"customer_gateway_id": cgw})
    await steps.routing_changed(rt)  # e.g. isolation: drop the breakout's CIDRs from the policy
    return undo.problems


def _delete_cgw(cgw: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.delete_customer_gateway(cgw)

    return call


async def _disassociate(undo: _Undo, res: Resources) -> None:
    table = res.associated_route_table_id
    if not table:
        return
    done = True
    for n, att in ((1, res.attachment_id), (2, res.attachment_id_2)):
        if att:
            done &= await undo(_named("disassociate", n), _disassociation(table, att))
    if done:
        await undo.forget("association", "VPN attachment disassociated from the customers "
                          "table", {"route_table_id": table, "attachment_id": res.attachment_id,
                                    **({"attachment_id_2": res.attachment_id_2}
                                       if res.attachment_id_2 else {})})  # fmt: skip


def _disassociation(table: str, attachment_id: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.disassociate_route_table(route_table_id=table, attachment_id=attachment_id)

    return call


async def _delete_connection(rt: Runtime, undo: _Undo, region: str, n: int,
                             vpn_id: str | None, attachment_id: str | None) -> bool:  # fmt: skip
    """Delete VPN connection ``n`` and wait until AWS says it is ``deleted``; True when it
    is gone (or was never made)."""
    if not vpn_id:
        return True
    gone = await undo(_named("delete_vpn", n), lambda c: c.delete_vpn_connection(vpn_id))
    gone = gone and await _wait_deleted(rt, undo, region, vpn_id, _named("vpn_deleted", n))
    if gone:
        await undo.forget(_named("vpn_connection", n).replace(" ", "_"), "VPN connection deleted",
                          {"vpn_connection_id": vpn_id, "attachment_id": attachment_id})
    return gone
