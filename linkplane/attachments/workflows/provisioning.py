"""The provisioning workflow of every attachment type, and its compensation.

``breakout-<id>-<rev>`` :func:`provision` loads the plan of the row's type and runs it; any
stop (deletion, rejection, expiry, permanent AWS error) runs the plan's teardown: the
compensations of what the row records, in reverse. ``...-rollback`` :func:`rollback` does
the same for a revision whose provisioning workflow failed outright (the sweep starts it).
"""

from __future__ import annotations

from dbos._error import DBOSMaxStepRetriesExceeded
from sqlalchemy.orm import Session

from linkplane.attachments import records
from linkplane.attachments.records import Plan, Stop, StopKind
from linkplane.attachments.workflows import messages
from linkplane.attachments.workflows.plans import plan_for
from linkplane.cloud.errors import CloudError
from linkplane.durable import steps
from linkplane.durable.runtime import Runtime, bound_runtime, workflow
from linkplane.settings import Settings


@workflow(messages.PROVISION)
async def provision(breakout_id: int, revision: int) -> str:
    """Provision one revision of a breakout; returns the outcome ("active", "expired", ...)."""
    rt = bound_runtime()
    with steps.log_context(breakout_id=breakout_id, revision=revision):
        try:
            settings = rt.settings
            plan = await steps.db(rt, "load", lambda s: _load(s, breakout_id, revision,
                                                              settings))  # fmt: skip
            if plan is None:
                return "stale"
            await plan_for(plan.type_id).provision(rt, plan)
            return "active"
        except Stop as stop:
            kind, reason = stop.kind, stop.reason
        except (CloudError, DBOSMaxStepRetriesExceeded) as exc:
            kind, reason = StopKind.FAILED, f"AWS error: {exc}"
        await unwind(rt, breakout_id, kind, reason)
        return str(kind)


def _load(session: Session, breakout_id: int, revision: int, settings: Settings) -> Plan | None:
    row = records.current_row(session, breakout_id, revision)
    if row is None:
        return None
    return plan_for(row.type_id).plan(session, row, records.installation_of(session, settings))


async def unwind(rt: Runtime, breakout_id: int, kind: StopKind, reason: str) -> None:
    res = await steps.db(rt, "unwind", lambda s: records.begin_unwind(s, breakout_id, kind,
                                                                      reason))  # fmt: skip
    problems = await plan_for(res.type_id).teardown(rt, res)
    if problems:
        reason = f"{reason}; cleanup incomplete: {'; '.join(problems)}"
    await steps.db(rt, "final", lambda s: records.finish_unwind(s, breakout_id, kind, reason))


@workflow(messages.ROLLBACK)
async def rollback(breakout_id: int, revision: int, why: str) -> str:
    """Undo revision ``revision`` of a breakout whose provisioning workflow failed (``why``)
    after making something, or that was asked to stop and has no workflow left to do it."""
    rt = bound_runtime()
    with steps.log_context(breakout_id=breakout_id, revision=revision):
        res = await steps.db(rt, "load", lambda s: records.begin_rollback(
            s, breakout_id, revision, why))  # fmt: skip
        if res is None:
            return "nothing to do"
        kind = StopKind.DELETED if res.delete_requested else StopKind.FAILED
        reason = "deleted" if res.delete_requested else f"the provisioning failed: {why}"
        problems = await plan_for(res.type_id).teardown(rt, res)
        if problems:
            reason = f"{reason}; cleanup incomplete: {'; '.join(problems)}"
        await steps.db(rt, "final", lambda s: records.finish_unwind(s, breakout_id, kind, reason))
        return str(kind)

