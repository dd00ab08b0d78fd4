"""Shared helpers of the SMS, quota, traffic-limit and blocklist tests: devices with an
activated SIM, their profiles and events (on top of ``tests.test_devices_support``)."""

from __future__ import annotations

import itertools
from typing import Any

from linkplane.db import transaction
from tests.test_devices_support import Fleet, iccid, import_sims, sim_rows

_numbers = itertools.count(5000)


def device(fleet: Fleet, org: str = "acme", *, sim_status: int = 1, name: str = "dev") -> int:
    """A new endpoint of ``org`` with a fresh SIM in ``sim_status`` (1: Activated)."""
    n = next(_numbers)
    import_sims(fleet.ctx.sessionmaker, fleet.orgs[org], sim_rows(n, 1, f"BIC{n}"))
    assert fleet.register(org, f"BIC{n}", sim_status).status_code == 200
    sims = fleet.get("/api/v1/sim", org, params={"q": f"iccid:{iccid(n)}"}).json()
    sp, tp = fleet.profiles(org)
    body = {"name": name, "status": {"id": 0}, "service_profile": {"id": sp},
            "tariff_profile": {"id": tp}, "sim": {"id": sims[0]["id"]}}  # fmt: skip
    r = fleet.post("/api/v1/endpoint", body, org)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def profile_of(fleet: Fleet, endpoint_id: int, org: str = "acme") -> tuple[int, int]:
    ep = fleet.get(f"/api/v1/endpoint/{endpoint_id}", org).json()
    return int(ep["service_profile"]["id"]), int(ep["tariff_profile"]["id"])


def own_profile(fleet: Fleet, endpoint_id: int, org: str = "acme", **flags: Any) -> int:
    """Give the endpoint a service profile of its own (so tests do not share settings)."""
    r = fleet.post("/api/v1/service_profile", {"name": f"sp-{endpoint_id}", **flags}, org)
    assert r.status_code == 201, r.text
    sp = int(r.json()["id"])
    assert fleet.patch(f"/api/v1/endpoint/{endpoint_id}", {"service_profile": {"id": sp}},
                       org).status_code == 204  # fmt: skip
    return sp


def events(fleet: Fleet, endpoint_id: int, org: str = "acme") -> list[dict[str, Any]]:
    """The endpoint's events, oldest first."""
    found: list[dict[str, Any]] = fleet.get(f"/api/v1/endpoint/{endpoint_id}/event", org).json()
    return list(reversed(found))


def types(fleet: Fleet, endpoint_id: int) -> list[str]:
    return [e["event_type"]["description"] for e in events(fleet, endpoint_id)]


def in_session(fleet: Fleet, fn: Any, **kw: Any) -> Any:
    """Run a service function in its own committed transaction."""
    with transaction(fleet.ctx.sessionmaker) as session:
        return fn(session=session, **kw)
