"""``sign-in-housekeeping``: the hourly pass that forgets old sign-in state.

A DBOS schedule, so one executor runs each tick however many workers there are; the pass
is two idempotent deletes (:func:`~linkplane.tenancy.service.prune_sign_in_state`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linkplane.db import utcnow
from linkplane.durable import steps
from linkplane.durable.runtime import bound_runtime, workflow
from linkplane.logs import get_logger
from linkplane.tenancy import service

log = get_logger(__name__)

HOUSEKEEPING_SCHEDULE = "sign-in-housekeeping"
#: At minute 17 of every hour (seconds first): off the round hours other cron jobs favour.
HOUSEKEEPING_CRON = "0 17 * * * *"


def prune(session: Any) -> dict[str, int]:
    """One pass, as a plain dict (what the step checkpoints)."""
    pruned = service.prune_sign_in_state(session=session, now=utcnow())
    return {"sign_in_failures": pruned.sign_in_failures, "refresh_tokens": pruned.refresh_tokens}


@workflow("tenancy.housekeeping")
async def housekeeping(scheduled_at: datetime, context: Any) -> None:
    """Delete stale failure counts and expired refresh tokens."""
    counts = await steps.db(bound_runtime(), "prune sign-in state", prune)
    if any(counts.values()):
        log.info("sign_in_state_pruned", **counts)
