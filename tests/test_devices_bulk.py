"""Bulk endpoint requests (``/api/v2/endpoint/multi``): all or nothing, every failing item
named, and a fixed number of SQL statements whatever the number of endpoints."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import IPv4Network
from typing import Any

import pytest
from sqlalchemy import event

from linkplane.addressing import service as addressing
from tests.test_devices_support import Fleet, any_db_fleet, import_sims, sim_rows

__all__ = ["any_db_fleet"]


@pytest.fixture
def fleet(any_db_fleet: Fleet) -> Fleet:
    """Every test of this module on SQLite, then on PostgreSQL (when configured)."""
    return any_db_fleet

MULTI = "/api/v2/endpoint/multi"


def _create(fleet: Fleet, endpoints: list[dict[str, Any]], org: str = "acme", **extra: Any) -> Any:
    sp, tp = fleet.profiles(org)
    body = {"service_profile": {"id": sp}, "tariff_profile": {"id": tp}, "status": {"id": 0},
            "endpoints": endpoints, **extra}  # fmt: skip
    return fleet.post(MULTI, body, org)


def _send(fleet: Fleet, method: str, body: Any, role: str = "admin", **params: Any) -> Any:
    return fleet.client.request(method, MULTI, json=body, params=params,
                                headers=fleet.as_("acme", role))  # fmt: skip


def _sims(fleet: Fleet, count: int, status: int = 0) -> list[int]:
    """``count`` new SIMs registered to acme in ``status``, their ids (unique numbers: a
    PostgreSQL database is shared by the test session)."""
    start = secrets.randbelow(10**6) * 1000
    bic = f"B{start}"
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(start, count, bic))
    registered = fleet.register("acme", bic, status).json()["sim"]
    return [s["id"] for s in registered]


def _ip(fleet: Fleet, host: int) -> str:
    """The address ``host`` of acme's first IP address space."""
    space = fleet.get("/api/v1/ip_address_space").json()[0]["ip_address_space"]
    return str(IPv4Network(space).network_address + host)


def _count(fleet: Fleet) -> int:
    return int(fleet.get("/api/v1/endpoint").headers["X-Total-Count"])


def test_bulk_create_returns_every_endpoint(fleet: Fleet) -> None:
    one, two = _sims(fleet, 2)
    space = fleet.get("/api/v1/ip_address_space").json()[0]["id"]
    r = _create(fleet, [
        {"name": "a", "sim": {"id": one, "activate": True}},
        {"name": "b", "ip_address": _ip(fleet, 9), "tags": "x"},
        {"name": "c", "sim": {"id": two}},
    ], ip_address_space={"id": space})  # fmt: skip
    assert r.status_code == 201, r.text
    made = r.json()
    assert [e["name"] for e in made] == ["a", "b", "c"]
    assert [e["ip_address"] for e in made] == [_ip(fleet, 1), _ip(fleet, 9), _ip(fleet, 2)]
    assert made[0]["sim"]["status"]["description"] == "Activated"
    assert made[2]["sim"]["status"]["description"] == "Issued"
    assert made[1]["tariff_profile"]["satellite_capable"] is False
    assert fleet.get(f"/api/v1/endpoint/{made[1]['id']}").json() == made[1]
    events = fleet.get(f"/api/v1/endpoint/{made[0]['id']}/event").json()
    assert events[0]["description"].endswith("(bulk)")
    # The skipped addresses stay free for the next endpoints.
    assert fleet.new_endpoint().json()["ip_address"] == _ip(fleet, 3)


def test_bulk_create_is_all_or_nothing_and_names_every_bad_item(fleet: Fleet) -> None:
    (sim,) = _sims(fleet, 1)
    linked = fleet.new_endpoint(sim={"id": sim}).json()["id"]
    before = _count(fleet)
    r = _create(fleet, [
        {"name": "ok"},
        {"name": "bad imei", "imei": "12"},
        {"name": "taken sim", "sim": {"id": sim}},
        {"name": "no sim", "sim": {"id": 987654321}},
        {"name": "lock", "imei_lock": True},
    ])  # fmt: skip
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["endpoints[1].imei", "endpoints[2].sim", "endpoints[3].sim",
                      "endpoints[4].imei_lock"]  # fmt: skip
    assert f"linked to endpoint {linked}" in r.json()["message"]
    assert _count(fleet) == before
    # Addresses: a chosen one in use, and one given twice.
    space = fleet.get("/api/v1/ip_address_space").json()[0]["id"]
    r = _create(fleet, [{"ip_address": _ip(fleet, 1)}, {"ip_address": _ip(fleet, 5)},
                        {"ip_address": _ip(fleet, 5)}], ip_address_space={"id": space})  # fmt: skip
    assert r.status_code == 409 and [e["field"] for e in r.json()["errors"]] == [
        "endpoints[2].ip_address"
    ]
    r = _create(fleet, [{"ip_address": _ip(fleet, 1)}], ip_address_space={"id": space})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "endpoints[0].ip_address"
    assert _count(fleet) == before
    assert fleet.new_endpoint().json()["ip_address"] == _ip(fleet, 2)  # nothing was consumed


def test_bulk_limits_and_shared_fields(fleet: Fleet) -> None:
    r = _create(fleet, [{}] * 2001)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "endpoints"
    assert _create(fleet, []).status_code == 422
    r = _create(fleet, [{"name": "x"}], status={"id": 2})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = _create(fleet, [{"ip_address": _ip(fleet, 7)}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ip_address_space"
    r = _create(fleet, [{"name": "x", "colour": "red"}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "endpoints[0].colour"
    sp, _tp = fleet.profiles("globex")
    r = _create(fleet, [{"name": "x"}], service_profile={"id": sp})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_profile"
    assert _create(fleet, [{"name": "x"}], org="acme").status_code == 201
    assert fleet.post(MULTI, {"endpoints": []}, role="observer").status_code == 403
    assert _count(fleet) == 1


def test_bulk_update(fleet: Fleet) -> None:
    one, two = _sims(fleet, 2, status=1)
    made = _create(fleet, [{"name": "a", "sim": {"id": one}}, {"name": "b"}, {"name": "c"}]).json()
    a, b, c = (e["id"] for e in made)
    r = _send(fleet, "PATCH", [
        {"id": a, "name": "a2", "sim": {"id": one, "status": {"id": 2}}},
        {"id": b, "status": {"id": 1}, "sim": {"id": two}},
        {"id": c, "ip_address": _ip(fleet, 50)},
    ])  # fmt: skip
    assert r.status_code == 204, r.text
    got = {e["id"]: e for e in fleet.get("/api/v1/endpoint").json()}
    assert got[a]["name"] == "a2" and got[a]["sim"]["status"]["description"] == "Suspended"
    assert got[b]["status"]["id"] == 1 and got[b]["sim"]["id"] == two
    assert got[c]["ip_address"] == _ip(fleet, 50)
    assert fleet.new_endpoint().json()["ip_address"] == _ip(fleet, 3)  # c's old one, freed
    # One bad item: nothing of the others changes, every bad item is named.
    r = _send(fleet, "PATCH", [{"id": a, "name": "never"}, {"id": b, "imei": "1"},
                               {"id": c, "sim": {"id": two}}, {"id": 987654}])  # fmt: skip
    assert r.status_code == 404, r.text  # unknown ids first: the items agree on 404
    assert [e["field"] for e in r.json()["errors"]] == ["[3].id"]
    r = _send(fleet, "PATCH", [{"id": a, "name": "never"}, {"id": b, "imei": "1"},
                               {"id": c, "sim": {"id": two}}])  # fmt: skip
    assert r.status_code == 422, r.text  # a 422 and a 409 item: 422
    assert [e["field"] for e in r.json()["errors"]] == ["[1].imei", "[2].sim"]
    assert fleet.get(f"/api/v1/endpoint/{a}").json()["name"] == "a2"
    foreign = fleet.new_endpoint("globex").json()["id"]
    r = _send(fleet, "PATCH", [{"id": foreign, "name": "mine now"}])
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "[0].id"
    assert _send(fleet, "PATCH", [{"id": a, "name": "x"}], role="observer").status_code == 403


def test_bulk_delete_releases_and_suspends_or_deletes_the_sims(fleet: Fleet) -> None:
    one, two = _sims(fleet, 2, status=1)
    made = _create(fleet, [{"sim": {"id": one}}, {"sim": {"id": two}}, {}, {}]).json()
    ids = [e["id"] for e in made]
    r = _send(fleet, "DELETE", [{"id": ids[0]}, {"id": 987654}])
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "[1].id"
    assert _count(fleet) == 4
    assert _send(fleet, "DELETE", [{"id": ids[0]}], role="observer").status_code == 403
    assert _send(fleet, "DELETE", [{"id": ids[0]}, {"id": ids[2]}]).status_code == 204
    sim = fleet.get(f"/api/v1/sim/{one}").json()
    assert "endpoint" not in sim and sim["status"]["description"] == "Suspended"
    assert _send(fleet, "DELETE", [{"id": ids[1]}], delete_sims="true").status_code == 204
    assert fleet.get(f"/api/v1/sim/{two}").status_code == 404
    assert [e["id"] for e in fleet.get("/api/v1/endpoint").json()] == [ids[3]]
    # The deleted endpoints' addresses are free again, lowest first.
    assert fleet.new_endpoint().json()["ip_address"] == _ip(fleet, 1)


@contextmanager
def _statements(fleet: Fleet) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(fleet.ctx.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(fleet.ctx.engine, "before_cursor_execute", count)


def test_bulk_requests_cost_the_same_statements_for_10_or_400_endpoints(fleet: Fleet) -> None:
    """Efficiency as a count, not a timing: no round trip per endpoint."""
    sims = _sims(fleet, 410)
    costs = {}
    for n, first in ((10, 0), (400, 10)):
        # A fresh space each: the same free-list state, whatever the round.
        with fleet.ctx.sessionmaker() as session:
            cidr = addressing.first_free_subnet(
                session=session, device_cidr=fleet.ctx.settings.device_cidr, prefix=22
            )
        big = fleet.post("/api/v1/ip_address_space", {"ip_address_space": str(cidr)}).json()
        items = [{"name": f"e{i}", "sim": {"id": sims[first + i], "activate": True}}
                 for i in range(n)]  # fmt: skip
        with _statements(fleet) as created:
            r = _create(fleet, items, ip_address_space={"id": big["id"]})
        assert r.status_code == 201, r.text
        ids = [e["id"] for e in r.json()]
        with _statements(fleet) as updated:
            assert _send(fleet, "PATCH", [{"id": i, "tags": "t"} for i in ids]).status_code == 204
        with _statements(fleet) as deleted:
            assert _send(fleet, "DELETE", [{"id": i} for i in ids]).status_code == 204
        costs[n] = (len(created), len(updated), len(deleted))
    assert costs[400] == costs[10], costs
