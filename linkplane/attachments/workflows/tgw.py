"""The TGW plan: share -> wait for acceptance -> wait for the customer's attachment ->
accept -> associate -> static routes -> Active; and its teardown, the compensations of what
the row records, in reverse, each an idempotent step with its own event.

Waiting breakouts are suspended coroutines in ``DBOS.recv_async`` on DBOS's event loop: no
thread, no connection per breakout. Their deadlines and messages are in the system database,
so a restart (or another executor taking this one over) resumes the wait where it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dbos import DBOS
from sqlalchemy.orm import Session

from linkplane.attachments import records
from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import Breakout, BreakoutType
from linkplane.attachments.records import Plan, Resources, Stop, StopKind
from linkplane.attachments.workflows.messages import DELETE, TOPIC, WAKE
from linkplane.cloud.errors import CloudError, ResourceNotFound
from linkplane.cloud.port import CloudPort, PrincipalStatus, TgwAttachment
from linkplane.durable import steps
from linkplane.durable.runtime import Runtime
from linkplane.settings import Settings

#: The step sequence new plans get (see ``Plan.sequence``): 2 is :func:`_provision_compound`.
SEQUENCE = 2
GONE_STATES = frozenset({"deleted", "deleting", "rejected", "rejecting", "failed", "failing"})


class TgwPlan:
    """Attachment type 1: the customer attaches its VPC to the shared Transit Gateway."""

    type_ids = frozenset({BreakoutType.TGW})

    def plan(self, session: Session, row: Breakout, installation: str) -> Plan:
        return replace(records.tgw_plan(session, row, installation), sequence=SEQUENCE)

    async def provision(self, rt: Runtime, plan: Plan) -> None:
        if plan.sequence >= 2:
            await _provision_compound(rt, plan)
        else:  # checkpointed before sequence 2: replays the steps it recorded
            await _provision(rt, plan)

    async def teardown(self, rt: Runtime, res: Resources) -> list[str]:
        return await teardown(rt, res)


# --- provisioning ---------------------------------------------------------------------------
#: Share steps in pool threads at once, per process. A share spends RAM's mutating budget
#: (5/s), and the limiter waits for a token in the step's thread: 1,000 breakouts started
#: together held all 32 pool threads asleep for RAM tokens (py-spy: 31 of 32 in
#: ``RateLimiter.acquire`` under ``_share``) while accepted attachments waited for a thread,
#: leaving EC2's bucket idle for the ~190 s the shares took (throttled N = 1000: 1.21x the
#: floor). The rest wait on the event loop, holding no thread; 8 keep RAM's bucket busy.
SHARES_IN_FLIGHT = 8


async def _provision_compound(rt: Runtime, plan: Plan) -> None:
    """Sequence 2: what follows without a wait is one compound step (one checkpoint), each
    part idempotent; the same AWS calls, records and events as sequence 1, in its order.

    With the shared watch running, the waits look first when it wakes them (or after
    :func:`_watched_interval`): the watch reads for every breakout at once.
    """
    async with rt.gate("share", SHARES_IN_FLIGHT):
        arn, now = await steps.compound(rt, "share", plan.region, lambda w: _share(w, plan))
    deadline = await _await_acceptance(rt, plan, arn, now)
    attachment_id, state = await _await_attachment(rt, plan, deadline)
    if state != "available":
        await _wait_available(rt, plan, attachment_id)
    remote = await steps.compound(rt, "routing", plan.region,
                                  lambda w: _routing(w, plan, attachment_id))  # fmt: skip
    if remote:
        for route in remote:
            await steps.cloud(rt, route.label(), route.region, remote_route(route))
        await steps.db(rt, "activate", lambda s: records.activate(s, plan))
    await steps.routing_changed(rt)  # e.g. isolation: the devices may now reach the new CIDRs


def _share(w: steps.Work, plan: Plan) -> tuple[str, float]:
    """Ensure the share and record it; returns its ARN and the time."""
    share = w.cloud.ensure_resource_share(
        name=plan.share_name, resource_arn=plan.tgw_arn, principal=plan.account_id,
        client_token=plan.client_token, tags=plan.tags)  # fmt: skip
    w.db(lambda s: records.record_share(s, plan, share.arn))
    return share.arn, time.time()


def _watched_interval(settings: Settings) -> float:
    """A waiting breakout's own first poll interval. The shared watch wakes it within an
    interval of its customer acting and again after its quiet time while it still waits
    (:class:`~linkplane.attachments.watcher.Watcher`), so with the watch on, the breakout's
    own polls are the fallback and start at six watch intervals (30 s by default)."""
    watch = settings.breakout_watch_interval_seconds
    initial = settings.breakout_poll_initial_seconds
    return max(initial, 6 * watch) if watch > 0 else initial


def _watched_backoff(settings: Settings) -> _Backoff:
    """The customer waits' own polls: with the watch on, a fallback that starts at
    :func:`_watched_interval` and backs off to ``breakout_watched_poll_max_seconds``."""
    if settings.breakout_watch_interval_seconds <= 0:
        return _Backoff(settings)
    return _Backoff(settings, first=_watched_interval(settings),
                    ceiling=settings.breakout_watched_poll_max_seconds)  # fmt: skip


async def _await_acceptance(rt: Runtime, plan: Plan, share_arn: str, now: float) -> float:
    """Wait until the customer accepts; returns the attachment deadline recorded then."""
    settings = rt.settings
    watched = settings.breakout_watch_interval_seconds > 0
    backoff = _watched_backoff(settings)
    if watched:  # the share was made just now: nobody has answered yet; the watch will tell
        await backoff.wait(now, plan.invitation_deadline)

    def look(w: steps.Work) -> tuple[PrincipalStatus, float | None, float]:
        status = w.cloud.principal_status(share_arn=share_arn, principal=plan.account_id)
        deadline = None
        if status is PrincipalStatus.ACCEPTED:
            deadline = w.db(lambda s: records.mark_accepted(s, plan, settings))
        return status, deadline, time.time()

    while True:
        status, deadline, now = await steps.compound(rt, "invitation_status", plan.region, look)
        if deadline is not None:
            return deadline
        _invitation_stop(status, now, plan)
        await backoff.wait(now, plan.invitation_deadline)


def _invitation_stop(status: PrincipalStatus, now: float, plan: Plan) -> None:
    """Raise Stop when the invitation will not be accepted any more."""
    if status is PrincipalStatus.REJECTED:
        raise Stop(StopKind.REJECTED, "the customer rejected the resource share invitation")
    if status is PrincipalStatus.EXPIRED or now >= plan.invitation_deadline:
        raise Stop(StopKind.EXPIRED, "the resource share invitation expired unanswered")
    if status is PrincipalStatus.GONE:
        # A sender cannot read the receiver's invitation: a principal that left the share
        # while we waited was rejected by the customer (or the share was withdrawn).
        raise Stop(StopKind.REJECTED, "the invitation was rejected by the customer "
                   "(the account is no longer a principal of the resource share)")


async def _await_attachment(rt: Runtime, plan: Plan, deadline: float) -> tuple[str, str]:
    """Wait for the customer's attachment, claim it and accept it; returns its id and the
    state accepting left it in. Looks at once: a customer often attaches right after
    accepting the invitation, before the acceptance was noticed."""
    backoff = _watched_backoff(rt.settings)

    def look(w: steps.Work) -> tuple[str | None, str, float]:
        found = _pending_attachment(w.cloud, plan)
        # Also without ``found``: a run of this step before a crash may have claimed and
        # accepted it, so it is no longer pending.
        claimed = w.db(lambda s: records.claim_found(s, plan, found))
        if claimed is None:
            return None, "", time.time()
        return claimed, w.cloud.accept_vpc_attachment(claimed).state, time.time()

    while True:
        claimed, state, now = await steps.compound(rt, "attachment", plan.region, look)
        if claimed is not None:
            if state in GONE_STATES:
                raise Stop(StopKind.FAILED, f"the attachment became {state} while being "
                           "accepted")  # fmt: skip
            return claimed, state
        if now >= deadline:
            raise Stop(StopKind.EXPIRED, "the customer created no attachment before the deadline")
        await backoff.wait(now, deadline)


def _routing(w: steps.Work, plan: Plan, attachment_id: str) -> list[RemoteRoute]:
    """Record the routing (before making it), associate, route the core route table and the
    core VPC; record the routes for devices in other regions and return them, or, with none,
    activate. Every part is idempotent (see :func:`records.start_routing`)."""
    w.db(lambda s: records.start_routing(s, plan))
    w.cloud.associate_route_table(route_table_id=plan.customers_route_table_id,
                                  attachment_id=attachment_id)  # fmt: skip
    for cidr in plan.cidrs:
        _route(plan, cidr, attachment_id)(w.cloud)
    for cidr in plan.vpc_route_cidrs:
        _vpc_route(plan, cidr)(w.cloud)

    def crossregion_or_activate(session: Session) -> list[RemoteRoute]:
        remote = records.start_crossregion(session, plan)
        if not remote:
            records.activate(session, plan)
        return remote

    return w.db(crossregion_or_activate)


async def _provision(rt: Runtime, plan: Plan) -> None:
    """Sequence 1: one step per AWS call or record (plans checkpointed before sequence 2)."""
    share = await steps.cloud(rt, "ensure_share", plan.region, lambda c: c.ensure_resource_share(
        name=plan.share_name, resource_arn=plan.tgw_arn, principal=plan.account_id,
        client_token=plan.client_token, tags=plan.tags))  # fmt: skip
    await steps.db(rt, "record_share", lambda s: records.record_share(s, plan, share.arn))
    await _wait_acceptance(rt, plan, share.arn)
    settings = rt.settings
    deadline = await steps.db(rt, "accepted", lambda s: records.mark_accepted(s, plan, settings))
    attachment_id = await _wait_attachment(rt, plan, deadline)
    await steps.db(rt, "claim", lambda s: records.claim_attachment(s, plan, attachment_id))
    await steps.cloud(rt, "accept", plan.region, lambda c: _accept(c, attachment_id))
    await _wait_available(rt, plan, attachment_id)
    await steps.db(rt, "routing", lambda s: records.start_routing(s, plan))
    await steps.cloud(rt, "associate", plan.region, lambda c: c.associate_route_table(
        route_table_id=plan.customers_route_table_id, attachment_id=attachment_id))  # fmt: skip
    for cidr in plan.cidrs:
        await steps.cloud(rt, f"route {cidr}", plan.region, _route(plan, cidr, attachment_id))
    for cidr in plan.vpc_route_cidrs:
        await steps.cloud(rt, f"vpc route {cidr}", plan.region, _vpc_route(plan, cidr))
    await route_other_regions(rt, plan)
    await steps.db(rt, "activate", lambda s: records.activate(s, plan))
    await steps.routing_changed(rt)  # e.g. isolation: the devices may now reach the new CIDRs


async def route_other_regions(rt: Runtime, plan: Plan) -> None:
    """The routes for the organisation's devices in other regions (TGW and VPN plans alike),
    each recorded before any is made (see linkplane.attachments.crossregion)."""
    remote = await steps.db(rt, "crossregion", lambda s: records.start_crossregion(s, plan))
    for route in remote:
        await steps.cloud(rt, route.label(), route.region, remote_route(route))


def _route(plan: Plan, cidr: str, attachment_id: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.create_static_route(route_table_id=plan.core_route_table_id, cidr=cidr,
                                 attachment_id=attachment_id)  # fmt: skip

    return call


def remote_route(route: RemoteRoute) -> Callable[[CloudPort], None]:
    """A route for devices in another region (see linkplane.attachments.crossregion)."""

    def call(port: CloudPort) -> None:
        if route.kind == "vpc":
            table = port.main_route_table_id(route.route_table_id)
            port.ensure_vpc_route_to_tgw(route_table_id=table, cidr=route.cidr,
                                         tgw_id=route.target)  # fmt: skip
        else:
            port.create_static_route(route_table_id=route.route_table_id, cidr=route.cidr,
                                     attachment_id=route.target)  # fmt: skip

    return call


def remote_unroute(route: RemoteRoute) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        if route.kind == "vpc":
            table = port.main_route_table_id(route.route_table_id)
            port.delete_vpc_route(route_table_id=table, cidr=route.cidr)
        else:
            port.delete_static_route(route_table_id=route.route_table_id, cidr=route.cidr)

    return call


def _vpc_route(plan: Plan, cidr: str) -> Callable[[CloudPort], bool]:
    """The core VPC sends ``cidr`` to the TGW (no-op when bootstrap routes an aggregate)."""

    def call(port: CloudPort) -> bool:
        table = port.main_route_table_id(plan.core_vpc_id)
        return port.ensure_vpc_route_to_tgw(route_table_id=table, cidr=cidr, tgw_id=plan.tgw_id)

    return call


class _Backoff:
    """Poll intervals: ``first`` (else the initial one) doubled up to the maximum; a re-check
    resets it to the initial one."""

    def __init__(self, settings: Settings, maximum: float | None = None,
                 first: float | None = None, ceiling: float | None = None) -> None:  # fmt: skip
        self.initial = settings.breakout_poll_initial_seconds
        top = ceiling or settings.breakout_poll_max_seconds  # ceiling: the watched fallback's
        self.maximum = min(top, maximum or float("inf"))
        self.delay = min(first or self.initial, self.maximum)

    async def wait(self, now: float, deadline: float) -> None:
        """Sleep until the next poll, a re-check, or a deletion (raises Stop)."""
        timeout = max(0.0, min(self.delay, deadline - now))
        message = await DBOS.recv_async(TOPIC, timeout_seconds=timeout)
        if message == DELETE:
            raise Stop(StopKind.DELETED, "deletion requested")
        self.advance(message)

    def advance(self, message: object) -> None:
        """The next interval: the initial one after a re-check, else doubled up to the
        maximum."""
        self.delay = self.initial if message == WAKE else min(self.delay * 2, self.maximum)


async def _wait_acceptance(rt: Runtime, plan: Plan, share_arn: str) -> None:
    backoff = _Backoff(rt.settings)
    while True:
        status, now = await steps.cloud_now(rt, "invitation_status", plan.region, lambda c: (
            c.principal_status(share_arn=share_arn, principal=plan.account_id)))  # fmt: skip
        if status is PrincipalStatus.ACCEPTED:
            return
        _invitation_stop(status, now, plan)
        await backoff.wait(now, plan.invitation_deadline)


def _pending_attachment(port: CloudPort, plan: Plan) -> str | None:
    """The customer's oldest attachment waiting for acceptance (or already accepted by us)."""
    found = port.list_attachments(tgw_id=plan.tgw_id, resource_owner_id=plan.account_id,
                                  states=["pendingAcceptance"], resource_type="vpc")  # fmt: skip
    mine = [a for a in found if a.resource_owner_id == plan.account_id]
    return min(mine, key=lambda a: a.id).id if mine else None


async def _wait_attachment(rt: Runtime, plan: Plan, deadline: float) -> str:
    backoff = _Backoff(rt.settings)
    while True:
        found, now = await steps.cloud_now(
            rt, "find_attachment", plan.region, lambda c: _pending_attachment(c, plan)
        )
        if found is not None and await steps.db(
            rt, "attachment turn", lambda s: records.attachment_turn(s, plan)
        ):
            return found
        if now >= deadline:
            raise Stop(StopKind.EXPIRED, "the customer created no attachment before the deadline")
        await backoff.wait(now, deadline)


def _accept(port: CloudPort, attachment_id: str) -> str:
    """Accept once: an attachment already past pendingAcceptance was accepted before."""
    current = port.describe_attachment(attachment_id)
    if current is None or current.state in GONE_STATES:
        raise ResourceNotFound(f"attachment {attachment_id} is gone", operation="accept")
    if current.state == "pendingAcceptance":
        return port.accept_vpc_attachment(attachment_id).state
    return current.state


def describe(attachment_id: str) -> Callable[[CloudPort], TgwAttachment | None]:
    def call(port: CloudPort) -> TgwAttachment | None:
        return port.describe_attachment(attachment_id)

    return call


async def _wait_available(rt: Runtime, plan: Plan, attachment_id: str) -> None:
    backoff = _Backoff(rt.settings, maximum=15.0)
    start: float | None = None
    while True:
        attachment, now = await steps.cloud_now(
            rt, "attachment_state", plan.region, describe(attachment_id)
        )
        start = now if start is None else start
        state = attachment.state if attachment else "deleted"
        if state == "available":
            return
        if state in GONE_STATES:
            raise Stop(StopKind.FAILED, f"the attachment became {state} while being accepted")
        deadline = start + rt.settings.breakout_activation_timeout_seconds
        if now >= deadline:
            raise Stop(StopKind.FAILED, f"the attachment stayed {state}; AWS did not activate it")
        await backoff.wait(now, deadline)


# --- teardown -------------------------------------------------------------------------------
async def teardown(rt: Runtime, res: Resources) -> list[str]:
    """Undo, in reverse order of creation, every resource ``res`` records.

    Each undo is an idempotent step (a resource already gone is success) followed by an event;
    a permanent failure is recorded and the remaining undos still run. A resource whose undo
    failed stays recorded on the row (``aws_resources`` shows it), so the sweep retries it.
    Returns the failures.
    """
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
            detail: dict[str, object] = {"core_route_table_id": rt_id, "routes": list(res.routes)}
            await undo.forget("routes", "Static routes removed from the core route table", detail)
    await _undo_attachment(undo, res)
    if res.share_arn:
        arn = res.share_arn
        if await undo("delete_share", lambda c: c.delete_resource_share(share_arn=arn)):
            await undo.forget("share", "Resource share deleted", {"share_arn": arn})
    await steps.routing_changed(rt)  # e.g. isolation: drop the breakout's CIDRs from the policy
    return undo.problems


async def unroute_other_regions(undo: _Undo, res: Resources) -> None:
    """Remove the recorded routes for devices in other regions, newest first (first of all
    undos: the devices there lose the path before the attachment goes)."""
    gone = True
    for route in reversed(res.crossregion_routes):
        gone &= await undo(f"un{route.label()}", remote_unroute(route), route.region)
    if res.crossregion_routes and gone:
        await undo.forget("crossregion", "Routes for devices in other regions removed",
                          {"routes": [r.label() for r in res.crossregion_routes]})  # fmt: skip


async def _undo_attachment(undo: _Undo, res: Resources) -> None:
    att = res.attachment_id
    if res.associated_route_table_id:
        table = res.associated_route_table_id
        # Without an attachment there is no association left: AWS removed it with it.
        if not att or await undo("disassociate", lambda c: c.disassociate_route_table(
                route_table_id=table, attachment_id=att)):  # fmt: skip
            await undo.forget("association", "Attachment disassociated from the customers "
                              "table", {"route_table_id": table, "attachment_id": att})  # fmt: skip
    if att and await undo("remove_attachment", lambda c: _remove_attachment(c, att)):
        await undo.forget("attachment", "Customer attachment rejected/deleted",
                          {"attachment_id": att})  # fmt: skip


def _vpc_unroute(vpc_id: str, cidr: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.delete_vpc_route(route_table_id=port.main_route_table_id(vpc_id), cidr=cidr)

    return call


def _unroute(route_table_id: str, cidr: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.delete_static_route(route_table_id=route_table_id, cidr=cidr)

    return call


def _remove_attachment(port: CloudPort, attachment_id: str) -> None:
    """The TGW owner may reject a pending attachment and delete an accepted one."""
    current: TgwAttachment | None = port.describe_attachment(attachment_id)
    if current is None or current.state in GONE_STATES:
        return
    if current.state == "pendingAcceptance":
        port.reject_vpc_attachment(attachment_id)
    else:
        port.delete_vpc_attachment(attachment_id)


class _Undo:
    """The undo steps of one teardown, and the failures they met."""

    def __init__(self, rt: Runtime, breakout_id: int, region: str) -> None:
        self.rt, self.bid, self.region = rt, breakout_id, region
        self.problems: list[str] = []

    async def __call__(
        self, name: str, call: Callable[[CloudPort], Any], region: str | None = None
    ) -> bool:
        """Run one undo (in the breakout's region unless told); on a permanent failure
        record it and return False."""
        try:
            await steps.cloud(self.rt, name, region or self.region, call)
            return True
        except CloudError as exc:  # its retries were spent in the adapter
            await self.failed(name, str(exc))
            return False

    async def failed(self, name: str, why: str) -> None:
        """Record a permanent failure of undo ``name`` (an event of severity 2)."""
        self.problems.append(f"{name}: {why}")
        text, bid = f"Compensation {name} failed: {why}", self.bid
        await steps.db(self.rt, f"failed {name}",
                       lambda s: records.note(s, bid, text, {"step": name}, 2))  # fmt: skip

    async def forget(self, what: str, text: str, detail: dict[str, object]) -> None:
        bid = self.bid

        def change(session: Session) -> None:
            records.forget(session, bid, what)
            records.note(session, bid, text, detail)

        await steps.db(self.rt, f"forget {what}", change)
