"""``breakout-sweep``: the periodic pass that keeps stored breakouts and AWS in step.

One pass: reject attachments no breakout expects, notice Active breakouts whose customer
deleted the attachment, repair breakouts no workflow works on (:mod:`.recovery`), retry
cleanups that were left incomplete, and move the cross-region routes of Active breakouts
whose organisation's breakout regions or whose peerings changed
(:func:`linkplane.attachments.crossregion.reroute_plan`). DBOS starts it once per tick
across all executors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from sqlalchemy.orm import Session

from linkplane.attachments import records
from linkplane.attachments.crossregion import RemoteRoute, Reroute
from linkplane.attachments.regions import bootstrapped_regions
from linkplane.attachments.workflows import messages, provisioning, recovery, teardown
from linkplane.attachments.workflows.plans import plan_for
from linkplane.attachments.workflows.recovery import Act, Repair
from linkplane.attachments.workflows.tgw import GONE_STATES, remote_route, remote_unroute
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort, TgwAttachment
from linkplane.durable import steps
from linkplane.durable.runtime import Runtime, bound_runtime, workflow
from linkplane.logs import get_logger

log = get_logger(__name__)

SWEEP_SCHEDULE = "breakout-sweep"


@workflow(messages.SWEEP)
async def sweep(scheduled_at: datetime, context: Any) -> None:
    """One pass: reject unexpected attachments, notice detached ones, repair stranded ones."""
    rt = bound_runtime()
    await _reject_unexpected(rt)
    await _notice_detached(rt)
    await _repair_stranded(rt)
    await _retry_leftovers(rt)
    await _reroute(rt)


async def _reject_unexpected(rt: Runtime) -> None:
    regions = await steps.db(rt, "regions", lambda s: bootstrapped_regions(session=s))
    for info in regions:
        pending = await steps.cloud(rt, f"pending {info.name}", info.name, _pending_of(info.tgw_id))
        for att in pending:
            await _judge(rt, info.name, att)


def _pending_of(tgw_id: str) -> Callable[[CloudPort], list[TgwAttachment]]:
    def call(port: CloudPort) -> list[TgwAttachment]:
        return port.list_attachments(tgw_id=tgw_id, states=["pendingAcceptance"])

    return call


async def _judge(rt: Runtime, region: str, att: TgwAttachment) -> None:
    owner, att_id = att.resource_owner_id, att.id
    expected = await steps.db(rt, f"expected {att_id}", lambda s: records.expected_attachment(
        s, region, owner, att_id))  # fmt: skip
    if expected:
        return
    await steps.cloud(rt, f"reject {att_id}", region, lambda c: _reject_if_pending(c, att_id))
    noted = await steps.db(rt, f"note {att_id}", lambda s: records.note_rejected(
        s, region, owner, att_id))  # fmt: skip
    if not noted:
        log.warning("rejected an attachment of an unknown account",
                    attachment_id=att_id, account=owner, region=region)  # fmt: skip


def _reject_if_pending(port: CloudPort, attachment_id: str) -> None:
    current = port.describe_attachment(attachment_id)
    if current is not None and current.state == "pendingAcceptance":
        port.reject_vpc_attachment(attachment_id)


async def _notice_detached(rt: Runtime) -> None:
    """Active breakouts whose attachment is gone: one step per region that lists each TGW's
    attachments (paginated, 1,000 a page) and records only the gone ones. One describe per
    Active breakout per pass was 333 reads/s at 10,000 Active against a 20/s read budget,
    and recorded the whole Active list in the system database every pass."""
    regions = await steps.db(rt, "active regions", records.active_regions)
    for region in regions:
        gone = await steps.compound(rt, f"detached {region}", region, _detached_in(region))
        for breakout_id, state in gone:
            revision = await steps.db(rt, f"rev {breakout_id}", records.revision_of(breakout_id))
            with SetWorkflowID(messages.detached_id(breakout_id, revision)):
                await DBOS.start_workflow_async(teardown.detached, breakout_id, revision, state)


def _detached_in(region: str) -> Callable[[steps.Work], list[tuple[int, str]]]:
    """(breakout id, state) of the region's Active breakouts whose attachment AWS reports
    gone (or no longer lists); state is ``records.TGW_GONE`` when the TGW went with it (the
    TGW deleted outside linkplane, a reset embedded cloud: the customer is not to blame)."""

    def body(work: steps.Work) -> list[tuple[int, str]]:
        active = work.db(lambda s: records.active_attachments(s, region=region))
        by_tgw: dict[str, list[tuple[int, str]]] = {}
        for breakout_id, _, attachment_id, tgw_id in active:
            by_tgw.setdefault(tgw_id, []).append((breakout_id, attachment_id))
        gone: dict[int, str] = {}
        for tgw_id, members in sorted(by_tgw.items()):
            states = _states(work.cloud, tgw_id, [a for _, a in members])
            lost = [(b, states.get(a, "deleted")) for b, a in members]
            lost = [(b, state) for b, state in lost if state in GONE_STATES]
            if lost and tgw_id and work.cloud.describe_transit_gateway(tgw_id) is None:
                lost = [(b, records.TGW_GONE) for b, _ in lost]
            for breakout_id, state in lost:
                gone.setdefault(breakout_id, state)  # type 4: the first gone attachment
        return sorted(gone.items())

    return body


def _states(port: CloudPort, tgw_id: str, attachment_ids: list[str]) -> dict[str, str]:
    """Attachment id -> state: the TGW's whole list, or (rows without a TGW id) one describe
    each."""
    if tgw_id:
        return {a.id: a.state for a in port.list_attachments(tgw_id=tgw_id)}
    found = (port.describe_attachment(a) for a in attachment_ids)
    return {a.id: a.state for a in found if a is not None}


async def _repair_stranded(rt: Runtime) -> None:
    """Rows no workflow works on (never started, or ended without finishing them).

    One step reads the rows, their workflows' states and the rows again, and records only
    the repairs (usually none). Each read was its own step: every pass recorded every
    breakout in flight twice and DBOS's status of each, ~0.5 KB per breakout per pass in
    the system database, which keeps it (10,000 breakouts waiting for their customers:
    5 MB a pass, ~15 GB a day at the 30 s interval).
    """
    for repair in await steps.read(rt, "stranded", lambda: _stranded(rt)):
        await _carry_out(rt, repair)


#: Workflow ids per DBOS state lookup: each is a bound parameter of one ``IN`` list, and
#: PostgreSQL takes at most 65,535 per statement (4 ids per breakout in flight).
STATE_CHUNK = 4000


def _stranded(rt: Runtime) -> list[Repair]:
    """See :func:`recovery.find_stranded`; runs inside a step (DBOS records nothing here)."""
    with rt.sessions() as session:
        before = records.in_flight(session)
    if not before:
        return []
    wanted = [w for row in before for w in recovery.workflow_ids(row)]
    states: dict[str, str] = {}
    for start in range(0, len(wanted), STATE_CHUNK):
        found = DBOS.list_workflows(workflow_ids=wanted[start : start + STATE_CHUNK],
                                    load_input=False, load_output=False)  # fmt: skip
        states.update((w.workflow_id, str(w.status)) for w in found)
    with rt.sessions() as session:
        # All rows again, not ``IN (ids)``: find_stranded ignores rows not read before.
        after = records.in_flight(session)
    return recovery.find_stranded(before, states, after)


async def _carry_out(rt: Runtime, repair: Repair) -> None:
    row, why = repair.row, repair.why
    bid, rev = row.breakout_id, row.revision
    log.warning("repairing a stranded breakout", breakout_id=bid, revision=rev,
                action=str(repair.act), why=why)  # fmt: skip
    if repair.act is Act.RESTART:
        settings = rt.settings
        new = await steps.db(rt, f"restart {bid}", lambda s: records.restart(
            s, bid, rev, why, settings))  # fmt: skip
        if new is not None:
            await _start(messages.provision_id(bid, new), provisioning.provision, bid, new)
    elif repair.act is Act.START:
        await _start(messages.provision_id(bid, rev), provisioning.provision, bid, rev)
    elif repair.act is Act.TEARDOWN:
        await _start(messages.teardown_id(bid, rev), teardown.delete, bid, rev)
    else:
        await _start(messages.rollback_id(bid, rev), provisioning.rollback, bid, rev, why)


async def _start(wid: str, fn: Callable[..., Any], *args: Any) -> None:
    with SetWorkflowID(wid):
        await DBOS.start_workflow_async(fn, *args)


async def _retry_leftovers(rt: Runtime) -> None:
    """Deactivated breakouts whose cleanup was incomplete: undo what they still record.

    Once per ``breakout_cleanup_retry_seconds`` per breakout (a permission AWS refuses
    stays refused until someone fixes it; each failed try is an event).
    """
    settings = rt.settings
    due = await steps.db(rt, "leftovers", lambda s: records.leftovers(
        s, settings.breakout_cleanup_retry_seconds))  # fmt: skip
    for res in due:
        problems = await plan_for(res.type_id).teardown(rt, res)
        await steps.db(rt, f"retried {res.breakout_id}", _finish_retry(res.breakout_id, problems))


def _finish_retry(breakout_id: int, problems: list[str]) -> Callable[[Session], None]:
    def change(session: Session) -> None:
        records.finish_retry(session, breakout_id, problems)

    return change


async def _reroute(rt: Runtime) -> None:
    """Cross-region routes follow profile and peering changes: add (recorded first), remove,
    then record what is left. Only Active breakouts: a running workflow owns the others."""
    moves = await steps.db(rt, "reroutes", records.begin_reroutes)
    for moved in moves:
        await _move(rt, moved)
    if moves:
        await steps.routing_changed(rt)  # e.g. isolation: the pools a breakout serves changed


async def _move(rt: Runtime, moved: Reroute) -> None:
    """One breakout's move. AWS refusing a route stops this breakout's move only: the routes
    not made are forgotten again (with a warning event) and the next sweep tries anew."""
    made: list[RemoteRoute] = []
    try:
        for route in moved.add:
            await steps.cloud(rt, route.label(), route.region, remote_route(route))
            made.append(route)
        for route in moved.remove:
            await steps.cloud(rt, f"un{route.label()}", route.region, remote_unroute(route))
    except CloudError as exc:
        unmade = [r for r in moved.add if r not in made]
        await steps.db(rt, f"reroute failed {moved.breakout_id}",
                       _abort_reroute(moved, unmade, str(exc)))  # fmt: skip
        return
    active = await steps.db(rt, f"rerouted {moved.breakout_id}", _finish_reroute(moved))
    if not active:  # deleted meanwhile: its teardown may have run before these were made
        for route in moved.add:
            await steps.cloud(rt, f"un{route.label()}", route.region, remote_unroute(route))


def _abort_reroute(moved: Reroute, unmade: list[RemoteRoute], error: str
                   ) -> Callable[[Session], None]:  # fmt: skip
    def change(session: Session) -> None:
        records.abort_reroute(session, moved, unmade, error)

    return change


def _finish_reroute(moved: Reroute) -> Callable[[Session], bool]:
    def change(session: Session) -> bool:
        return records.finish_reroute(session, moved)

    return change
