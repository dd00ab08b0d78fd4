"""The VPN plan (types 2 static, 3 BGP): customer gateway -> VPN connection on the region's
TGW -> wait until AWS has it available and its ``vpn`` attachment is listed -> associate
with the customers table -> a static route per declared ``on_prem_cidr`` in the core table
-> Active. No customer action is awaited. Teardown undoes what the row records, in reverse.

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
from linkplane.attachments.records import Plan, Resources, Stop, StopKind
from linkplane.attachments.workflows.tgw import (
    GONE_STATES,
    _Backoff,
    _route,
    _Undo,
    _unroute,
    _vpc_route,
    _vpc_unroute,
)
from linkplane.cloud.port import CloudPort, TunnelSpec, VpnConnection
from linkplane.durable import steps
from linkplane.durable.runtime import Runtime

_GONE_VPN = frozenset({"deleting", "deleted"})


class VpnPlan:
    """Attachment types 2 and 3: an AWS Site-to-Site VPN connection on the shared TGW."""

    type_ids = frozenset({BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP})

    def plan(self, session: Session, row: Breakout, installation: str) -> Plan:
        return records.vpn_plan(session, row, installation)

    async def provision(self, rt: Runtime, plan: Plan) -> None:
        await _provision(rt, plan)

    async def teardown(self, rt: Runtime, res: Resources) -> list[str]:
        return await teardown(rt, res)


def device_name(plan: Plan) -> str:
    """Tells this breakout's customer gateway apart from another one on the same IP and ASN
    (AWS answers an identical CreateCustomerGateway with the existing gateway)."""
    return f"linkplane-{plan._prefix}breakout-{plan.breakout_id}-r{plan.revision}"


# --- provisioning ---------------------------------------------------------------------------
async def _provision(rt: Runtime, plan: Plan) -> None:
    spec = plan.vpn
    if spec is None:
        raise Stop(StopKind.FAILED, f"breakout {plan.breakout_id} has no VPN request")
    await steps.db(rt, "vpn_start", lambda s: records.start_vpn(s, plan))
    gateway = await steps.cloud(rt, "customer_gateway", plan.region, lambda c: (
        c.ensure_customer_gateway(public_ip=spec.public_ip, asn=spec.asn,
                                  device_name=device_name(plan), tags=plan.tags)))  # fmt: skip
    gateway_id = gateway.id
    await steps.db(rt, "record_cgw",
                   lambda s: records.record_customer_gateway(s, plan, gateway_id))  # fmt: skip
    psk_key = rt.settings.signing_key()

    def connect(c: CloudPort) -> VpnConnection:
        # Unsealed inside the step and left out of its result: the durable engine checkpoints
        # a step's result and a workflow's inputs in clear.
        psk = vpn.unseal_psk(spec.sealed_psk, signing_key=psk_key)
        tunnels = tuple(TunnelSpec(psk, cidr) for cidr in (*spec.inside_cidrs, "", "")[:2])
        return without_psk(c.ensure_vpn_connection(
            customer_gateway_id=gateway.id, tgw_id=plan.tgw_id,
            static_routes_only=spec.static_routes_only, tunnels=tunnels, tags=plan.tags))

    made = await steps.cloud(rt, "vpn_connection", plan.region, connect)
    seen = tunnels_of(made)
    await steps.db(rt, "record_vpn", lambda s: records.record_vpn_connection(s, plan, made.id,
                                                                             seen))  # fmt: skip
    attachment_id = await _wait_available(rt, plan, made.id)
    await steps.db(rt, "claim", lambda s: records.record_vpn_attachment(s, plan, attachment_id))
    await steps.db(rt, "routing", lambda s: records.start_routing(s, plan))
    await steps.cloud(rt, "associate", plan.region, lambda c: c.associate_route_table(
        route_table_id=plan.customers_route_table_id, attachment_id=attachment_id))  # fmt: skip
    for cidr in plan.cidrs:
        await steps.cloud(rt, f"route {cidr}", plan.region, _route(plan, cidr, attachment_id))
    for cidr in plan.vpc_route_cidrs:
        await steps.cloud(rt, f"vpc route {cidr}", plan.region, _vpc_route(plan, cidr))
    await steps.db(rt, "activate", lambda s: records.activate(s, plan))
    await steps.routing_changed(rt)  # e.g. isolation: the devices may now reach the CIDRs


def without_psk(connection: VpnConnection) -> VpnConnection:
    return replace(connection, tunnels=tuple(replace(t, psk="") for t in connection.tunnels))


def tunnels_of(connection: VpnConnection) -> list[dict[str, object]]:
    """A connection's tunnels as the row keeps them (the PSK stays on the row's own column)."""
    return [{"outside_ip": t.outside_ip, "inside_cidr": t.inside_cidr, "status": t.status,
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


async def _wait_available(rt: Runtime, plan: Plan, vpn_id: str) -> str:
    """AWS takes minutes to bring a VPN connection up; the embedded cloud one read."""
    backoff = _Backoff(rt.settings, maximum=15.0)
    start: float | None = None
    while True:
        (state, attachment_id), now = await steps.cloud_now(
            rt, "vpn_state", plan.region, _available(vpn_id, plan.tgw_id)
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


async def _wait_deleted(rt: Runtime, undo: _Undo, region: str, vpn_id: str) -> bool:
    """AWS keeps a deleted connection ``deleting`` for a while and refuses to delete its
    customer gateway meanwhile: wait (a durable sleep) until it is ``deleted``."""
    start: float | None = None
    delay = rt.settings.breakout_poll_initial_seconds
    while True:
        state, now = await steps.cloud_now(rt, "vpn_deleted", region, _vpn_state(vpn_id))
        if state == "deleted":
            return True
        start = now if start is None else start
        if now - start >= rt.settings.breakout_activation_timeout_seconds:
            await undo.failed("delete_vpn", f"the VPN connection stayed {state}")
            return False
        await DBOS.sleep_async(delay)
        delay = min(delay * 2, 15.0)



async def teardown(rt: Runtime, res: Resources) -> list[str]:
    """Routes, association, VPN connection (its attachment goes with it), customer gateway:
    the reverse of provisioning, each an idempotent step with its event."""
    undo = _Undo(rt, res.breakout_id, res.region)
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
    att = res.attachment_id
    if res.associated_route_table_id:
        table = res.associated_route_table_id
        if not att or await undo("disassociate", lambda c: c.disassociate_route_table(
                route_table_id=table, attachment_id=att)):  # fmt: skip
            await undo.forget("association", "VPN attachment disassociated from the customers "
                              "table", {"route_table_id": table, "attachment_id": att})  # fmt: skip
    vpn_id, vpn_gone = res.vpn_connection_id, True
    if vpn_id:
        vpn_gone = await undo("delete_vpn", lambda c: c.delete_vpn_connection(vpn_id))
        vpn_gone = vpn_gone and await _wait_deleted(rt, undo, res.region, vpn_id)
        if vpn_gone:
            await undo.forget("vpn_connection", "VPN connection deleted",
                              {"vpn_connection_id": vpn_id, "attachment_id": att})  # fmt: skip
    cgw = res.customer_gateway_id
    # AWS refuses to delete a customer gateway its VPN still uses: kept for the sweep's retry.
    if cgw and vpn_gone and await undo("delete_cgw", lambda c: c.delete_customer_gateway(cgw)):
        await undo.forget("customer_gateway", "Customer gateway deleted",
                          {"customer_gateway_id": cgw})  # fmt: skip
    await steps.routing_changed(rt)  # e.g. isolation: drop the breakout's CIDRs from the policy
    return undo.problems

