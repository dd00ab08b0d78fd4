"""Audit findings for breakouts no workflow works on although their status says one should
(a status 1 breakout without its share whose workflow ended in ERROR, say). Pure: the
repairs :mod:`linkplane.attachments.workflows.recovery` finds in, findings out. Code
``stranded``; no fix of its own: the sweep carries the repair out (or ``recheck`` at once).
"""

from __future__ import annotations

from linkplane.attachments.models import STATUS_DESCRIPTION, Status
from linkplane.attachments.workflows.recovery import Act, Repair
from linkplane.isolation.drift import Drift

_NEXT = {
    Act.START: "the sweep starts its workflow",
    Act.RESTART: "the sweep starts it again as a new revision",
    Act.ROLLBACK: "the sweep rolls it back",
    Act.TEARDOWN: "the sweep starts its deletion",
}


def findings(repairs: list[Repair]) -> list[Drift]:
    out = []
    for repair in repairs:
        row = repair.row
        owns = ", ".join(row.owns) or "no AWS resource (not even its resource share)"
        message = (
            f"breakout {row.breakout_id} is {STATUS_DESCRIPTION[Status(row.status)]} and "
            f"records {owns}, but no workflow works on it ({repair.why}); "
            f"{_NEXT[repair.act]} (or now: linkplane breakout recheck {row.breakout_id})"
        )
        out.append(Drift("stranded", row.region, f"breakout {row.breakout_id}", message,
                         row.breakout_id, row.org_id))  # fmt: skip
    return out
