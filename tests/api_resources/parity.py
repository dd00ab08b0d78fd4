"""Routes added for emnify API parity (issue 12): organisation lookups and fleet extras."""

from __future__ import annotations

from typing import Any

from tests.api_harness import Harness, lookup, resource
from tests.api_resources.fleet import sim

lookup("/api/v1/organisation/status")


@resource(
    "/api/v1/sim/{sim_id}/event",
    "/api/v1/sim/{sim_id}/stats",
    "/api/v1/sim/{sim_id}/stats/daily",
    "/api/v1/sim/multi",
)
def sim_details(h: Harness) -> dict[str, Any]:
    return sim(h)
