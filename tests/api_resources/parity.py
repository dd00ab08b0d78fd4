"""Routes added for emnify API parity (issue 12): organisation lookups and fleet extras."""

from __future__ import annotations

from typing import Any

from tests.api_harness import Harness, lookup, resource
from tests.api_resources.fleet import _endpoint_body, endpoint, sim

lookup("/api/v1/organisation/status")


@resource(
    "/api/v1/sim/{sim_id}/event",
    "/api/v1/sim/{sim_id}/stats",
    "/api/v1/sim/{sim_id}/stats/daily",
    "/api/v1/sim/multi",
)
def sim_details(h: Harness) -> dict[str, Any]:
    return sim(h)


def _bulk_body(h: Harness) -> dict[str, Any]:
    body = _endpoint_body(h)
    return {**{k: body[k] for k in ("service_profile", "tariff_profile", "status")},
            "endpoints": [{"name": h.unique("bulk")}]}  # fmt: skip


@resource(
    "/api/v2/endpoint/multi",
    bodies={
        "POST /api/v2/endpoint/multi": _bulk_body,
        # The owner's sample: another tenant must get 404 and change nothing.
        "PATCH /api/v2/endpoint/multi": lambda h: [{"id": h.bulk_sample, "name": "renamed"}],
    },
)
def bulk_endpoints(h: Harness) -> dict[str, Any]:
    params = endpoint(h)
    h.bulk_sample = params["endpoint_id"]  # type: ignore[attr-defined]
    return params
