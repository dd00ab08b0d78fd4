"""The breakout workflows' "update core policy" step.

Called once at the end of provisioning (the breakout just became Active) and once at the end
of every teardown. Both calls are appended after the existing steps, so workflows already in
flight replay their recorded steps unchanged and simply run this one last.

A policy that cannot be loaded (gateway namespace gone, nft error) does not fail the
breakout: the previous ruleset stays in force, which is fail-closed for a new breakout and
already path-less for a removed one (its routes are gone). The failure is logged, the stored
digest is left as it was, and the next change or reconciliation pass applies it.
"""

from __future__ import annotations

import asyncio

from dbos import DBOS

from linkplane.errors import LinkplaneError
from linkplane.logs import get_logger

log = get_logger(__name__)


def _apply() -> str:
    from linkplane.attachments.engine import runtime
    from linkplane.isolation.service import apply_policy

    rt = runtime()
    try:
        result = apply_policy(settings=rt.settings, factory=rt.sessionmaker)
    except LinkplaneError as exc:
        log.warning("core_policy_not_applied", error=exc.message)
        return f"failed: {exc.message}"
    return f"{'applied' if result.changed else 'unchanged'} {result.digest[:12]}"


async def update_core_policy() -> str:
    """Regenerate and apply the core policy, as one checkpointed workflow step."""

    async def run() -> str:
        return await asyncio.to_thread(_apply)

    outcome: str = await DBOS.run_step_async({"name": "update core policy"}, run)
    return outcome
