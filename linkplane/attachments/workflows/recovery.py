"""Breakouts whose workflow ended without finishing them, or never started: what to do.

A stored breakout must reach its share (and on) or roll back. A row that should have a
workflow working on it but has none running is repaired by the sweep (every pass) and by
``recheck`` (at once), with the same decision, :func:`decide`:

- none ever started (a crash between the commit and the start): start it;
- the provisioning workflow failed (an exhausted pool in its first step, a bug) and made
  nothing yet: start over as the next revision (:func:`~linkplane.attachments.records.restart`);
- it failed after making something, or a deletion found no workflow to carry it out: roll
  back (``...-rollback``, the plan's teardown), once; a rollback that fails too is left to an
  operator (``linkplane audit`` reports the breakout).

The decision needs DBOS's states read *before* the rows: a workflow already ended when its
state was read cannot change its row any more, so the row read afterwards is its last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from linkplane.attachments.models import Status
from linkplane.attachments.records import InFlight
from linkplane.attachments.workflows.messages import (
    detached_id,
    provision_id,
    rollback_id,
    teardown_id,
)

RUNNING = frozenset({"PENDING", "ENQUEUED", "DELAYED"})


class Act(StrEnum):
    START = "start"  # the provisioning workflow of this revision
    RESTART = "restart"  # revision + 1, then its provisioning workflow
    TEARDOWN = "teardown"  # the deletion workflow
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Repair:
    act: Act
    row: InFlight
    why: str


def workflow_ids(row: InFlight) -> list[str]:
    """The workflows whose states :func:`decide` needs for ``row``."""
    bid, rev = row.breakout_id, row.revision
    return [provision_id(bid, rev), teardown_id(bid, rev), rollback_id(bid, rev),
            detached_id(bid, rev)]


def find_stranded(before: list[InFlight], states: dict[str, str], after: list[InFlight]
                  ) -> list[Repair]:  # fmt: skip
    """The repairs of rows read ``before`` and ``after`` the workflow ``states`` (of every
    :func:`workflow_ids` of ``before``). A row that changed in between is left for the next
    look: a workflow moved it, and its new state was not read."""
    unchanged = set(before)
    found = (decide(row, states) for row in after if row in unchanged)
    return [repair for repair in found if repair is not None]


def decide(row: InFlight, states: dict[str, str]) -> Repair | None:
    """What ``row`` needs, given the DBOS states of :func:`workflow_ids` (absent: none)."""
    prov, td, rb, det = (states.get(w) for w in workflow_ids(row))
    if prov in RUNNING or td in RUNNING or rb in RUNNING or rb is not None:
        return None  # something works on it, or its one rollback already ran
    if det in RUNNING:
        # The sweep's clean-up of an attachment deleted outside linkplane works on it (status
        # 6 without a deletion workflow): a teardown started now would race it.
        return None
    if row.status == Status.DEACTIVATION_PENDING:
        if td is None:
            return Repair(Act.TEARDOWN, row, "deletion requested; no workflow carries it out")
        return Repair(Act.ROLLBACK, row, f"the deletion workflow ended {td}")
    if prov is None:
        if row.status == Status.PENDING_CUSTOMER_ACTION:
            return Repair(Act.START, row, "its workflow never started")
        return Repair(Act.ROLLBACK, row, "no workflow records its provisioning")
    why = f"its workflow ended {prov}"
    return Repair(Act.RESTART if row.restartable else Act.ROLLBACK, row, why)
