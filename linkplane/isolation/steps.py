"""The core policy after a breakout's routes changed: the "update core policy" step.

Every process kind that runs workflows registers :func:`apply_core_policy` as a routing hook
of its durable runtime (:mod:`linkplane.process.hooks`); the breakout workflows run it as one
checkpointed step at the end of provisioning (the breakout just became Active) and of every
teardown. It was appended after the existing steps, so workflows already in flight replay
their recorded steps unchanged and simply run it last.

A policy that cannot be loaded (gateway namespace gone, nft error) does not fail the
breakout: the previous ruleset stays in force, which is fail-closed for a new breakout and
already path-less for a removed one (its routes are gone). The failure is logged, the stored
digest is left as it was, and the next change or reconciliation pass applies it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from linkplane.errors import LinkplaneError
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)

#: The step's name in every workflow's record: never rename.
STEP = "update core policy"


def apply_core_policy(*, settings: Settings, factory: sessionmaker[Session]) -> str:
    """Regenerate and apply the core policy; a short outcome for the workflow's record."""
    from linkplane.isolation.service import apply_policy

    try:
        result = apply_policy(settings=settings, factory=factory)
    except LinkplaneError as exc:
        log.warning("core_policy_not_applied", error=exc.message)
        return f"failed: {exc.message}"
    return f"{'applied' if result.changed else 'unchanged'} {result.digest[:12]}"
