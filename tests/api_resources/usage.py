"""Usage statistics routes in the isolation harness."""

from __future__ import annotations

from typing import Any

from linkplane.db import transaction
from linkplane.usage import service as usage
from tests.api_harness import Harness, resource
from tests.api_resources.fleet import endpoint


@resource(
    "/api/v1/endpoint/{endpoint_id}/stats",
    "/api/v1/endpoint/{endpoint_id}/stats/daily",
)
def endpoint_usage(h: Harness) -> dict[str, Any]:
    """An endpoint of the owner with traffic this month and last month."""
    params = endpoint(h)
    today = usage.today_utc()
    rows = [
        usage.UsageIn(endpoint_id=params["endpoint_id"], day=day, bytes_tx=1_000, bytes_rx=9_000)
        for day in (today, usage.previous_month_start(today))
    ]
    with transaction(h.factory) as session:
        usage.record_usage(session=session, rows=rows, org_id=h.owner.id)
    return params


@resource(
    "/api/v1/organisation/{org_id_or_my}/stats",
    "/api/v1/organisation/{org_id_or_my}/stats/daily",
)
def organisation_usage(h: Harness) -> dict[str, Any]:
    """The owner's own organisation, by id, with a day of traffic."""
    endpoint_usage(h)
    return {"org_id_or_my": h.owner.id}
