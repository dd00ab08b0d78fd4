"""Fleet routes (endpoints, SIMs, profiles, operators, IP address spaces) in the harness."""

from __future__ import annotations

from typing import Any

from linkplane.db import transaction
from linkplane.devices.seed import seed_demo_fleet
from linkplane.sims import importer
from linkplane.sims import service as sims
from tests.api_harness import Harness, lookup, resource

lookup(
    "/api/v1/endpoint/status",
    "/api/v1/sim/status",
    "/api/v1/operator",
    "/api/v1/ip_address_space/available",
)


def _seed(h: Harness) -> tuple[int, int]:
    with transaction(h.factory) as session:
        seed_demo_fleet(session=session, org_id=h.owner.id)
    sp = h.client.get("/api/v1/service_profile", headers=h.owner.admin).json()[0]["id"]
    tp = h.client.get("/api/v1/tariff_profile", headers=h.owner.admin).json()[0]["id"]
    return sp, tp


def _endpoint_body(h: Harness) -> dict[str, Any]:
    sp, tp = _seed(h)
    return {"name": h.unique("ep"), "status": {"id": 0}, "service_profile": {"id": sp},
            "tariff_profile": {"id": tp}}  # fmt: skip


@resource(
    "/api/v1/endpoint",
    "/api/v1/endpoint/{endpoint_id}",
    "/api/v1/endpoint/{endpoint_id}/connectivity",
    "/api/v1/endpoint/{endpoint_id}/connectivity_info",
    "/api/v1/endpoint/{endpoint_id}/event",
    bodies={
        "POST /api/v1/endpoint": _endpoint_body,
        "PATCH /api/v1/endpoint/{endpoint_id}": {"name": "renamed"},
    },
)
def endpoint(h: Harness) -> dict[str, Any]:
    r = h.client.post("/api/v1/endpoint", json=_endpoint_body(h), headers=h.owner.admin)
    return {"endpoint_id": h.location_id(r)}


@resource(
    "/api/v1/service_profile",
    "/api/v1/service_profile/{profile_id}",
    bodies={
        "POST /api/v1/service_profile": lambda h: {"name": h.unique("sp")},
        "PATCH /api/v1/service_profile/{profile_id}": {"name": "renamed"},
    },
)
def service_profile(h: Harness) -> dict[str, Any]:
    r = h.client.post("/api/v1/service_profile", json={"name": h.unique("sp")},
                      headers=h.owner.admin)  # fmt: skip
    return {"profile_id": h.location_id(r)}


@resource(
    "/api/v1/tariff_profile",
    "/api/v1/tariff_profile/{profile_id}",
    bodies={
        "POST /api/v1/tariff_profile": lambda h: {"name": h.unique("tp")},
        "PATCH /api/v1/tariff_profile/{profile_id}": {"name": "renamed"},
    },
)
def tariff_profile(h: Harness) -> dict[str, Any]:
    r = h.client.post("/api/v1/tariff_profile", json={"name": h.unique("tp")},
                      headers=h.owner.admin)  # fmt: skip
    return {"profile_id": h.location_id(r)}


@resource(
    "/api/v1/sim",
    "/api/v1/sim/{sim_id}",
    "/api/v1/sim_batch/bic/{bic}",
    bodies={"PATCH /api/v1/sim/{sim_id}": {"status": {"id": 1}}},
)
def sim(h: Harness) -> dict[str, Any]:
    n = h.counter = h.counter + 1
    bic = f"B{h.marker}{n}"
    base = 10_000 + n * 10 + h.owner.id * 1000
    # One registered SIM (the sample) and one shipped batch still to register (its BIC).
    rows = [
        f"8988303{base + i:012d},90143{base + i:010d},88{base + i:09d},{bic}{i}" for i in (0, 1)
    ]
    text = "iccid,imsi,msisdn,bic\n" + "\n".join(rows) + "\n"
    with transaction(h.factory) as session:
        sims.import_rows(session=session, org_id=h.owner.id, rows=importer.parse(text))
    h.client.patch(f"/api/v1/sim_batch/bic/{bic}0", json={}, headers=h.owner.admin)
    sim_id = h.client.get("/api/v1/sim", params={"q": f"iccid:8988303{base:012d}"},
                          headers=h.owner.admin).json()[0]["id"]  # fmt: skip
    return {"sim_id": sim_id, "bic": f"{bic}1"}


@resource(
    "/api/v1/ip_address_space",
    "/api/v1/ip_address_space/{space_id}",
    "/api/v1/ip_address_space/pool",
    bodies={"POST /api/v1/ip_address_space": {"ip_address_space": "100.127.0.0/24"}},
)
def ip_address_space(h: Harness) -> dict[str, Any]:
    _seed(h)
    spaces = h.client.get("/api/v1/ip_address_space", headers=h.owner.admin).json()
    return {"space_id": spaces[0]["id"]}
