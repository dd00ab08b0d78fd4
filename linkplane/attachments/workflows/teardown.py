"""Tearing down a breakout whose provisioning workflow no longer runs.

- ``breakout-<id>-<rev>-delete`` :func:`delete`: the user deleted an Active or expired one.
- ``breakout-<id>-<rev>-detached`` :func:`detached`: the customer deleted its attachment.
"""

from __future__ import annotations

from linkplane.attachments import records
from linkplane.attachments.models import VPN_TYPES
from linkplane.attachments.workflows import messages
from linkplane.attachments.workflows.plans import plan_for
from linkplane.durable import steps
from linkplane.durable.runtime import bound_runtime, workflow


@workflow(messages.DELETION)
async def delete(breakout_id: int, revision: int) -> str:
    """Tear down a breakout in status 6 whose provisioning workflow no longer runs."""
    rt = bound_runtime()
    with steps.log_context(breakout_id=breakout_id, revision=revision):
        res = await steps.db(rt, "load", lambda s: records.begin_delete(s, breakout_id))
        if res is None:
            return "nothing to do"
        problems = await plan_for(res.type_id).teardown(rt, res)
        reason = "deleted" + (f"; cleanup incomplete: {'; '.join(problems)}" if problems else "")
        await steps.db(rt, "final", lambda s: records.finish_unwind(s, breakout_id, "deleted",
                                                                    reason))  # fmt: skip
        return "deleted"


@workflow(messages.DETACHED)
async def detached(breakout_id: int, revision: int, state: str) -> str:
    """The customer deleted the attachment of an Active breakout: clean up, Deactivated."""
    rt = bound_runtime()
    with steps.log_context(breakout_id=breakout_id, revision=revision):
        res = await steps.db(rt, "load", lambda s: records.begin_detach(s, breakout_id, state))
        if res is None:
            return "nothing to do"
        problems = await plan_for(res.type_id).teardown(rt, res)
        gone = ("the VPN connection was deleted outside linkplane"
                if res.type_id in VPN_TYPES and state != records.TGW_GONE
                else records.detach_reason(state, with_state=False))  # fmt: skip
        reason = gone + (
            f"; cleanup incomplete: {'; '.join(problems)}" if problems else ""
        )
        await steps.db(rt, "final", lambda s: records.finish_unwind(s, breakout_id, "detached",
                                                                    reason))  # fmt: skip
        return "detached"
