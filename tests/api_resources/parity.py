"""Routes added for emnify API parity (issue 12): organisation lookups and fleet extras."""

from __future__ import annotations

from typing import Any

from linkplane.db import transaction, utcnow
from linkplane.usage import service as usage
from tests.api_harness import UNKNOWN_ID, Harness, lookup, resource
from tests.api_resources.breakouts import breakout
from tests.api_resources.fleet import _endpoint_body, endpoint, sim, tariff_profile

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


lookup(
    "/api/v1/tariff",
    "/api/v1/tariff/{tariff_id}/ratezone/{ratezone_id}/inclusive_volume",
    "/api/v1/organisation/{org_id_or_my}/inclusive_volume/active",
)


def _ratezone(h: Harness, profile_id: int) -> int:
    got = h.client.get(f"/api/v1/tariff_profile/{profile_id}", headers=h.owner.admin).json()
    return int(got["tariff"]["ratezone"][0]["id"])


def _offer(h: Harness) -> tuple[int, int]:
    tariff = h.client.get("/api/v1/tariff", headers=h.owner.admin).json()[0]
    zone = tariff["ratezone"][0]["id"]
    path = f"/api/v1/tariff/{tariff['id']}/ratezone/{zone}/inclusive_volume"
    offers = h.client.get(path, headers=h.owner.admin).json()
    return int(tariff["id"]), int(offers[-1]["id"])


@resource(
    "/api/v1/tariff_profile/{tariff_profile_id}/coverage",
    "/api/v1/tariff_profile/{tariff_profile_id}/ratezone_selection/{ratezone_id}",
    "/api/v1/tariff_profile/{tariff_profile_id}/inclusive_volume/{inclusive_volume_id}",
)
def tariff_profile_tariff(h: Harness) -> dict[str, Any]:
    profile_id = tariff_profile(h)["profile_id"]
    _, offer = _offer(h)
    r = h.client.put(f"/api/v1/organisation/my/inclusive_volume/{offer}", headers=h.owner.admin)
    volume = r.json()["id"] if r.status_code == 201 else UNKNOWN_ID
    return {"tariff_profile_id": profile_id, "ratezone_id": _ratezone(h, profile_id),
            "inclusive_volume_id": volume}  # fmt: skip


@resource(
    "/api/v1/organisation/{org_id}/tariff",
    "/api/v1/organisation/{org_id_or_my}/inclusive_volume/{inclusive_volume_id}",
    bodies={"PATCH /api/v1/organisation/{org_id}/tariff": lambda h: {"id": _offer(h)[0]}},
)
def organisation_tariff(h: Harness) -> dict[str, Any]:
    return {"org_id": h.owner.id, "org_id_or_my": h.owner.id,
            "inclusive_volume_id": _offer(h)[1]}  # fmt: skip


lookup("/api/v1/stats/daily")


@resource("/api/v1/organisation/{org_id_or_my}/stats/hourly")
def organisation_hourly_usage(h: Harness) -> dict[str, Any]:
    """The owner's organisation, by id, with traffic in the current hour."""
    params = endpoint(h)
    now = utcnow()
    row = usage.UsageIn(endpoint_id=params["endpoint_id"], day=now.date(), hour=now.hour,
                        bytes_tx=1_000, bytes_rx=9_000)  # fmt: skip
    with transaction(h.factory) as session:
        usage.record_usage(session=session, rows=[row], org_id=h.owner.id)
    return {"org_id_or_my": h.owner.id}


lookup("/api/v1/cnc/pricing")


@resource("/api/v1/cnc/breakout/{cloudconnect_attachment_id}/cost")
def breakout_cost(h: Harness) -> dict[str, Any]:
    return breakout(h)
