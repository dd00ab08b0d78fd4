"""The durable breakout workflows (DBOS, async).

- ``breakout-<id>-<rev>`` :func:`provision`: share -> wait for acceptance -> wait for the
  customer's attachment -> accept -> associate -> static routes -> Active. Any stop (deletion,
  rejection, expiry, permanent AWS error) runs :func:`teardown`: the compensations of what the
  row records, in reverse, each an idempotent step with its own event.
- ``breakout-<id>-<rev>-delete`` :func:`delete`: the teardown of an Active or expired one.
- ``breakout-<id>-<rev>-detached`` :func:`detached`: the customer deleted its attachment.
- ``breakout-sweep`` schedule :func:`sweep`: rejects attachments no breakout expects, notices
  detached Active breakouts, and (re)starts workflows for rows that have none.

Waiting breakouts are suspended coroutines in ``DBOS.recv_async`` on DBOS's event loop: no
thread, no connection per breakout. Their deadlines and messages are in the system database,
so a restart (or another executor recovering this one) resumes the wait where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded

from linkplane.attachments import records, steps
from linkplane.attachments.engine import runtime, workflow
from linkplane.attachments.models import workflow_id
from linkplane.attachments.records import Plan, Resources, Stop, StopKind
from linkplane.attachments.regions import bootstrapped_regions
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort, PrincipalStatus, TgwAttachment
from linkplane.isolation.steps import update_core_policy
from linkplane.logs import get_logger

log = get_logger(__name__)

#: Messages to a provisioning workflow (``DBOS.send(wf_id, msg, TOPIC)``).
TOPIC = "breakout"
WAKE = "recheck"
DELETE = "delete"
SWEEP_SCHEDULE = "breakout-sweep"
GONE_STATES = frozenset({"deleted", "deleting", "rejected", "rejecting", "failed", "failing"})


# --- provisioning ---------------------------------------------------------------------------
@workflow("breakout.provision")
async def provision(breakout_id: int, revision: int) -> str:
    """Provision one revision of a breakout; returns the outcome ("active", "expired", ...)."""
    try:
        settings = runtime().settings
        plan = await steps.db("load", lambda s: records.load_plan(
            s, breakout_id, revision, settings))  # fmt: skip
        if plan is None:
            return "stale"
        await _provision(plan)
        return "active"
    except Stop as stop:
        kind, reason = stop.kind, stop.reason
    except (CloudError, DBOSMaxStepRetriesExceeded) as exc:
        kind, reason = StopKind.FAILED, f"AWS error: {exc}"
    await _unwind(breakout_id, kind, reason)
    return str(kind)


async def _provision(plan: Plan) -> None:
    share = await steps.cloud("ensure_share", plan.region, lambda c: c.ensure_resource_share(
        name=plan.share_name, resource_arn=plan.tgw_arn, principal=plan.account_id,
        client_token=plan.client_token, tags=plan.tags))  # fmt: skip
    await steps.db("record_share", lambda s: records.record_share(s, plan, share.arn))
    await _wait_acceptance(plan, share.arn)
    settings = runtime().settings
    deadline = await steps.db("accepted", lambda s: records.mark_accepted(s, plan, settings))
    attachment_id = await _wait_attachment(plan, deadline)
    await steps.db("claim", lambda s: records.claim_attachment(s, plan, attachment_id))
    await steps.cloud("accept", plan.region, lambda c: _accept(c, attachment_id))
    await _wait_available(plan, attachment_id)
    await steps.db("routing", lambda s: records.start_routing(s, plan))
    await steps.cloud("associate", plan.region, lambda c: c.associate_route_table(
        route_table_id=plan.customers_route_table_id, attachment_id=attachment_id))  # fmt: skip
    for cidr in plan.cidrs:
        await steps.cloud(f"route {cidr}", plan.region, _route(plan, cidr, attachment_id))
    for cidr in plan.vpc_route_cidrs:
        await steps.cloud(f"vpc route {cidr}", plan.region, _vpc_route(plan, cidr))
    await steps.db("activate", lambda s: records.activate(s, plan))
    await update_core_policy()  # isolation: the devices may now reach the new CIDRs


def _route(plan: Plan, cidr: str, attachment_id: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.create_static_route(route_table_id=plan.core_route_table_id, cidr=cidr,
                                 attachment_id=attachment_id)  # fmt: skip

    return call


def _vpc_route(plan: Plan, cidr: str) -> Callable[[CloudPort], bool]:
    """The core VPC sends ``cidr`` to the TGW (no-op when bootstrap routes an aggregate)."""

    def call(port: CloudPort) -> bool:
        table = port.main_route_table_id(plan.core_vpc_id)
        return port.ensure_vpc_route_to_tgw(route_table_id=table, cidr=cidr, tgw_id=plan.tgw_id)

    return call


def _vpc_unroute(vpc_id: str, cidr: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.delete_vpc_route(route_table_id=port.main_route_table_id(vpc_id), cidr=cidr)

    return call


def _unroute(route_table_id: str, cidr: str) -> Callable[[CloudPort], None]:
    def call(port: CloudPort) -> None:
        port.delete_static_route(route_table_id=route_table_id, cidr=cidr)

    return call


class _Backoff:
    """Poll intervals: the initial one doubled up to the maximum; a re-check resets it."""

    def __init__(self) -> None:
        settings = runtime().settings
        self.initial = settings.breakout_poll_initial_seconds
        self.maximum = settings.breakout_poll_max_seconds
        self.delay = self.initial

    async def wait(self, now: float, deadline: float) -> None:
        """Sleep until the next poll, a re-check, or a deletion (raises Stop)."""
        timeout = max(0.0, min(self.delay, deadline - now))
        message = await DBOS.recv_async(TOPIC, timeout_seconds=timeout)
        if message == DELETE:
            raise Stop(StopKind.DELETED, "deletion requested")
        self.delay = self.initial if message == WAKE else min(self.delay * 2, self.maximum)


async def _wait_acceptance(plan: Plan, share_arn: str) -> None:
    backoff = _Backoff()
    while True:
        status, now = await steps.cloud_now("invitation_status", plan.region, lambda c: (
            c.principal_status(share_arn=share_arn, principal=plan.account_id)))  # fmt: skip
        if status is PrincipalStatus.ACCEPTED:
            return
        if status is PrincipalStatus.REJECTED:
            raise Stop(StopKind.REJECTED, "the customer rejected the resource share invitation")
        if status is PrincipalStatus.EXPIRED or now >= plan.invitation_deadline:
            raise Stop(StopKind.EXPIRED, "the resource share invitation expired unanswered")
        if status is PrincipalStatus.GONE:
            # A sender cannot read the receiver's invitation: a principal that left the share
            # while we waited was rejected by the customer (or the share was withdrawn).
            raise Stop(StopKind.REJECTED, "the invitation was rejected by the customer "
                       "(the account is no longer a principal of the resource share)")
        await backoff.wait(now, plan.invitation_deadline)


def _pending_attachment(port: CloudPort, plan: Plan) -> str | None:
    """The customer's oldest attachment waiting for acceptance (or already accepted by us)."""
    found = port.list_attachments(tgw_id=plan.tgw_id, resource_owner_id=plan.account_id,
                                  states=["pendingAcceptance"], resource_type="vpc")  # fmt: skip
    mine = [a for a in found if a.resource_owner_id == plan.account_id]
    return min(mine, key=lambda a: a.id).id if mine else None


async def _wait_attachment(plan: Plan, deadline: float) -> str:
    backoff = _Backoff()
    while True:
        found, now = await steps.cloud_now(
            "find_attachment", plan.region, lambda c: _pending_attachment(c, plan)
        )
        if found is not None:
            return found
        if now >= deadline:
            raise Stop(StopKind.EXPIRED, "the customer created no attachment before the deadline")
        await backoff.wait(now, deadline)


def _accept(port: CloudPort, attachment_id: str) -> str:
    """Accept once: an attachment already past pendingAcceptance was accepted before."""
    current = port.describe_attachment(attachment_id)
    if current is None or current.state in GONE_STATES:
        from linkplane.cloud.errors import ResourceNotFound

        raise ResourceNotFound(f"attachment {attachment_id} is gone", operation="accept")
    if current.state == "pendingAcceptance":
        return port.accept_vpc_attachment(attachment_id).state
    return current.state


async def _wait_available(plan: Plan, attachment_id: str) -> None:
    settings = runtime().settings
    backoff = _Backoff()
    backoff.maximum = min(backoff.maximum, 15.0)
    start: float | None = None
    while True:
        attachment, now = await steps.cloud_now(
            "attachment_state", plan.region, _describe(attachment_id)
        )
        start = now if start is None else start
        state = attachment.state if attachment else "deleted"
        if state == "available":
            return
        if state in GONE_STATES:
            raise Stop(StopKind.FAILED, f"the attachment became {state} while being accepted")
        deadline = start + settings.breakout_activation_timeout_seconds
        if now >= deadline:
            raise Stop(StopKind.FAILED, f"the attachment stayed {state}; AWS did not activate it")
        await backoff.wait(now, deadline)


# --- compensation ---------------------------------------------------------------------------
async def _unwind(breakout_id: int, kind: StopKind, reason: str) -> None:
    res = await steps.db("unwind", lambda s: records.begin_unwind(s, breakout_id, kind, reason))
    problems = await teardown(res)
    if problems:
        reason = f"{reason}; cleanup incomplete: {'; '.join(problems)}"
    await steps.db("final", lambda s: records.finish_unwind(s, breakout_id, kind, reason))


async def teardown(res: Resources) -> list[str]:
    """Undo, in reverse order of creation, every resource ``res`` records.

    Each undo is an idempotent step (a resource already gone is success) followed by an event;
    a permanent failure is recorded and the remaining undos still run. A resource whose undo
    failed stays recorded on the row (``aws_resources`` shows it), so the sweep retries it.
    Returns the failures.
    """
    problems: list[str] = []
    bid, region = res.breakout_id, res.region
    routes_gone = True
    for cidr in reversed(res.vpc_routes):
        unroute = _vpc_unroute(res.core_vpc_id, cidr)
        routes_gone &= await _undo(problems, bid, region, f"vpc unroute {cidr}", unroute)
    if res.routes and res.core_route_table_id:
        rt = res.core_route_table_id
        for cidr in reversed(res.routes):
            routes_gone &= await _undo(problems, bid, region, f"unroute {cidr}", _unroute(rt, cidr))
        if routes_gone:
            await _forget(bid, "routes", "Static routes removed from the core route table",
                          {"core_route_table_id": rt, "routes": list(res.routes)})  # fmt: skip
    if res.associated_route_table_id:
        rt, att = res.associated_route_table_id, res.attachment_id
        # Without an attachment there is no association left: AWS removed it with it.
        if not att or await _undo(problems, bid, region, "disassociate", lambda c: (
                c.disassociate_route_table(route_table_id=rt, attachment_id=att))):  # fmt: skip
            await _forget(bid, "association", "Attachment disassociated from the customers "
                          "table", {"route_table_id": rt, "attachment_id": att})  # fmt: skip
    if res.attachment_id:
        att = res.attachment_id
        if await _undo(problems, bid, region, "remove_attachment",
                       lambda c: _remove_attachment(c, att)):  # fmt: skip
            await _forget(bid, "attachment", "Customer attachment rejected/deleted",
                          {"attachment_id": att})  # fmt: skip
    if res.share_arn:
        arn = res.share_arn
        if await _undo(problems, bid, region, "delete_share",
                       lambda c: c.delete_resource_share(share_arn=arn)):  # fmt: skip
            await _forget(bid, "share", "Resource share deleted", {"share_arn": arn})
    await update_core_policy()  # isolation: drop the breakout's CIDRs from the core policy
    return problems


def _remove_attachment(port: CloudPort, attachment_id: str) -> None:
    """The TGW owner may reject a pending attachment and delete an accepted one."""
    current: TgwAttachment | None = port.describe_attachment(attachment_id)
    if current is None or current.state in GONE_STATES:
        return
    if current.state == "pendingAcceptance":
        port.reject_vpc_attachment(attachment_id)
    else:
        port.delete_vpc_attachment(attachment_id)


async def _undo(problems: list[str], bid: int, region: str, name: str, call: Any) -> bool:
    """Run one undo; on a permanent failure record it and return False."""
    try:
        await steps.cloud(name, region, call)
        return True
    except (CloudError, DBOSMaxStepRetriesExceeded) as exc:
        problems.append(f"{name}: {exc}")
        text = f"Compensation {name} failed: {exc}"
        await steps.db(f"failed {name}", lambda s: records.note(s, bid, text, {"step": name}, 2))
        return False


async def _forget(bid: int, what: str, text: str, detail: dict[str, object]) -> None:
    def change(session: Any) -> None:
        records.forget(session, bid, what)
        records.note(session, bid, text, detail)

    await steps.db(f"forget {what}", change)


@workflow("breakout.delete")
async def delete(breakout_id: int, revision: int) -> str:
    """Tear down a breakout in status 6 whose provisioning workflow no longer runs."""
    res = await steps.db("load", lambda s: records.begin_delete(s, breakout_id))
    if res is None:
        return "nothing to do"
    problems = await teardown(res)
    reason = "deleted" + (f"; cleanup incomplete: {'; '.join(problems)}" if problems else "")
    await steps.db("final", lambda s: records.finish_unwind(s, breakout_id, "deleted", reason))
    return "deleted"


@workflow("breakout.detached")
async def detached(breakout_id: int, revision: int, state: str) -> str:
    """The customer deleted the attachment of an Active breakout: clean up, Deactivated."""
    res = await steps.db("load", lambda s: records.begin_detach(s, breakout_id, state))
    if res is None:
        return "nothing to do"
    problems = await teardown(res)
    reason = "the customer deleted its attachment" + (
        f"; cleanup incomplete: {'; '.join(problems)}" if problems else ""
    )
    await steps.db("final", lambda s: records.finish_unwind(s, breakout_id, "detached", reason))
    return "detached"


# --- starting and signalling (called by the API/CLI after their transaction committed) -----
def start_provisioning(breakout_id: int, revision: int) -> str:
    """Start (idempotently: the id is deterministic) the provisioning workflow."""
    wid = workflow_id(breakout_id, revision)
    _start_on_loop(wid, provision, breakout_id, revision)
    return wid


def start_teardown(breakout_id: int, revision: int) -> str:
    wid = f"{workflow_id(breakout_id, revision)}-delete"
    _start_on_loop(wid, delete, breakout_id, revision)
    return wid


def _start_on_loop(wid: str, fn: Callable[..., Any], *args: Any) -> None:
    """Start an async workflow from synchronous code as a task on DBOS's event loop.

    ``DBOS.start_workflow`` (sync) runs an async workflow on a pool thread that blocks until
    the coroutine ends: one thread per waiting breakout for days (measured: 300 parked
    breakouts, 500 threads). ``start_workflow_async`` on DBOS's own loop makes it a task,
    as recovery and queues do. Must not be called on that loop's thread (DBOS raises).
    """

    async def start() -> None:
        with SetWorkflowID(wid):
            await DBOS.start_workflow_async(fn, *args)

    from dbos._dbos import _get_dbos_instance  # the loop DBOS runs async workflows on

    _get_dbos_instance()._background_event_loop.submit_coroutine(start())


def signal(breakout_id: int, revision: int, message: str) -> None:
    """Wake a waiting provisioning workflow (``recheck``) or tell it to stop (``delete``)."""
    DBOS.send(workflow_id(breakout_id, revision), message, TOPIC)


# --- the periodic sweep ---------------------------------------------------------------------
@workflow("breakout.sweep")
async def sweep(scheduled_at: datetime, context: Any) -> None:
    """One pass: reject unexpected attachments, notice detached ones, repair orphans."""
    await _reject_unexpected()
    await _notice_detached()
    await _repair_orphans()
    await _retry_leftovers()


async def _reject_unexpected() -> None:
    regions = await steps.db("regions", lambda s: bootstrapped_regions(session=s))
    for info in regions:
        pending = await steps.cloud(f"pending {info.name}", info.name, _pending_of(info.tgw_id))
        for att in pending:
            await _judge(info.name, att)


def _pending_of(tgw_id: str) -> Callable[[CloudPort], list[TgwAttachment]]:
    def call(port: CloudPort) -> list[TgwAttachment]:
        return port.list_attachments(tgw_id=tgw_id, states=["pendingAcceptance"])

    return call


async def _judge(region: str, att: TgwAttachment) -> None:
    owner, att_id = att.resource_owner_id, att.id
    expected = await steps.db(f"expected {att_id}", lambda s: records.expected_attachment(
        s, region, owner, att_id))  # fmt: skip
    if expected:
        return
    await steps.cloud(f"reject {att_id}", region, lambda c: _reject_if_pending(c, att_id))
    noted = await steps.db(f"note {att_id}", lambda s: records.note_rejected(
        s, region, owner, att_id))  # fmt: skip
    if not noted:
        log.warning("rejected an attachment of an unknown account",
                    attachment_id=att_id, account=owner, region=region)  # fmt: skip


def _reject_if_pending(port: CloudPort, attachment_id: str) -> None:
    current = port.describe_attachment(attachment_id)
    if current is not None and current.state == "pendingAcceptance":
        port.reject_vpc_attachment(attachment_id)


def _describe(attachment_id: str) -> Callable[[CloudPort], TgwAttachment | None]:
    def call(port: CloudPort) -> TgwAttachment | None:
        return port.describe_attachment(attachment_id)

    return call


async def _notice_detached() -> None:
    active = await steps.db("active", records.active_attachments)
    for breakout_id, region, attachment_id in active:
        found = await steps.cloud(f"check {attachment_id}", region, _describe(attachment_id))
        state = found.state if found else "deleted"
        if state in GONE_STATES:
            revision = await steps.db(f"rev {breakout_id}", records.revision_of(breakout_id))
            wid = f"{workflow_id(breakout_id, revision)}-detached"
            with SetWorkflowID(wid):
                await DBOS.start_workflow_async(detached, breakout_id, revision, state)


async def _repair_orphans() -> None:
    """Rows whose workflow never started (crash between commit and start) get one now."""
    rows = await steps.db("orphans", records.orphans)
    for breakout_id, revision, delete_requested in rows:
        wid = workflow_id(breakout_id, revision)
        status = await DBOS.get_workflow_status_async(wid)
        running = status is not None and status.status in ("PENDING", "ENQUEUED")
        if not delete_requested and status is None:
            with SetWorkflowID(wid):
                await DBOS.start_workflow_async(provision, breakout_id, revision)
        elif delete_requested and not running:
            with SetWorkflowID(f"{wid}-delete"):
                await DBOS.start_workflow_async(delete, breakout_id, revision)


async def _retry_leftovers() -> None:
    """Deactivated breakouts whose cleanup was incomplete: undo what they still record.

    Once per ``breakout_cleanup_retry_seconds`` per breakout (a permission AWS refuses
    stays refused until someone fixes it; each failed try is an event).
    """
    settings = runtime().settings
    due = await steps.db("leftovers", lambda s: records.leftovers(
        s, settings.breakout_cleanup_retry_seconds))  # fmt: skip
    for res in due:
        problems = await teardown(res)
        await steps.db(f"retried {res.breakout_id}", _finish_retry(res.breakout_id, problems))


def _finish_retry(breakout_id: int, problems: list[str]) -> Callable[[Any], None]:
    def change(session: Any) -> None:
        records.finish_retry(session, breakout_id, problems)

    return change


def schedule_sweep(interval_seconds: int) -> None:
    """(Re)apply the sweep schedule: every ``interval_seconds`` (a divisor of 60 works best)."""
    every = max(1, min(59, interval_seconds))
    DBOS.apply_schedules([{"schedule_name": SWEEP_SCHEDULE, "workflow_fn": sweep,
                           "schedule": f"*/{every} * * * * *"}])  # fmt: skip
