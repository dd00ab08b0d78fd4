"""SIM migration in the isolation harness: the owner's SIMs named by the other tenant."""

from __future__ import annotations

from typing import Any

from tests.api_harness import Harness, resource


def _body(h: Harness) -> dict[str, Any]:
    every = {"start": "8988303000000000000", "end": "8988303000000000499"}
    return {"target_workspace": {"id": h.other.id}, "iccid_range": every, "dry_run": False}


@resource("/api/v1/sim/migration/workspace",
          bodies={"POST /api/v1/sim/migration/workspace": _body})  # fmt: skip
def sim_migration(h: Harness) -> dict[str, Any]:
    """No sample of its own: the route names organisations, checked for 404/403 above."""
    return {}
