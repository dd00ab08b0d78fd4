"""Listing breakouts: what emnify leaves out by default and how a client asks for it."""

from __future__ import annotations

import json

from linkplane.attachments.models import Breakout, Status
from linkplane.db import transaction
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]


def _breakout(fleet: Fleet, name: str, status: Status, org: str = "acme") -> int:
    with transaction(fleet.ctx.sessionmaker) as session:
        row = Breakout(org_id=fleet.orgs[org], name=name, region="us-east-2",
                       aws_account_id="123456789012", vpc_cidrs=json.dumps(["10.1.0.0/24"]),
                       status_id=int(status))  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_deactivated_breakouts_are_left_out_unless_asked_for(fleet: Fleet) -> None:
    """issue 12 defect 4: the spec says deleted (Deactivated) attachments are left out by
    default; its ``status`` filter is how a client asks for them."""
    active = _breakout(fleet, "live", Status.ACTIVE)
    gone = _breakout(fleet, "gone", Status.DEACTIVATED)
    pending = _breakout(fleet, "waiting", Status.PENDING_CUSTOMER_ACTION)
    _breakout(fleet, "theirs", Status.DEACTIVATED, org="globex")
    r = fleet.get("/api/v1/cnc/breakout")
    assert [b["id"] for b in r.json()] == [pending, active]
    assert r.headers["X-Total-Count"] == "2"
    r = fleet.get("/api/v1/cnc/breakout", params={"status": 7})
    assert [b["id"] for b in r.json()] == [gone] and r.headers["X-Total-Count"] == "1"
    assert [b["id"] for b in fleet.get("/api/v1/cnc/breakout", params={"status": 5}).json()] == [
        active
    ]
    # A deactivated breakout is still readable by id.
    assert fleet.get(f"/api/v1/cnc/breakout/{gone}").json()[0]["status"]["id"] == 7
