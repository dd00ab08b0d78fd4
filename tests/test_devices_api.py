"""Endpoints over the HTTP API: shapes, pagination, filters, SIM link, tenancy and roles."""

from __future__ import annotations

from linkplane.events.types import type_id
from tests.test_devices_support import Fleet, fleet, import_sims, sim_rows

__all__ = ["fleet"]


def test_create_returns_201_location_and_the_emnify_shape(fleet: Fleet) -> None:
    r = fleet.new_endpoint(tags="a,b", imei="3520990017614823", imei_lock=True)
    assert r.status_code == 201, r.text
    body = r.json()
    # Absolute, as everywhere (issue 12 defect 7: it was relative here).
    assert r.headers["Location"] == f"http://testserver/api/v1/endpoint/{body['id']}"
    assert body["status"] == {"id": 0, "description": "Enabled"}
    assert body["ip_address"] == "100.64.0.1"
    assert body["ip_address_space"] == {"id": 1}
    assert set(body["service_profile"]) == {"id", "name"}
    # satellite_capable is required by emnify's description (issue 12 defect 6).
    assert body["tariff_profile"]["satellite_capable"] is False
    assert body["sim"] is None and body["imei_lock"] is True and body["tags"] == "a,b"
    assert body["imei_with_luhn"] == "352099001761481"
    assert fleet.get(r.headers["Location"]).json() == body


def test_each_endpoint_gets_the_lowest_free_address_and_delete_frees_it(fleet: Fleet) -> None:
    ids = [fleet.new_endpoint().json()["id"] for _ in range(3)]
    assert fleet.delete(f"/api/v1/endpoint/{ids[1]}").status_code == 204
    assert fleet.get(f"/api/v1/endpoint/{ids[1]}").status_code == 404
    assert fleet.new_endpoint().json()["ip_address"] == "100.64.0.2"
    assert fleet.new_endpoint().json()["ip_address"] == "100.64.0.4"
    space = fleet.get("/api/v1/ip_address_space").json()[0]
    assert space["used_count"] == 4 and space["available_count"] == 250


def test_list_paginates_with_totals_in_headers(fleet: Fleet) -> None:
    for i in range(5):
        fleet.new_endpoint(name=f"n{i}")
    r = fleet.get("/api/v1/endpoint", params={"page": 2, "per_page": 2})
    assert [e["name"] for e in r.json()] == ["n2", "n3"]
    assert r.headers["X-Total-Count"] == "5" and r.headers["X-Total-Pages"] == "3"
    assert r.headers["X-Current-Page"] == "2" and r.headers["X-Count-Per-Page"] == "2"
    assert fleet.get("/api/v1/endpoint", params={"per_page": 0}).status_code == 422


def test_filters_and_sort(fleet: Fleet) -> None:
    fleet.new_endpoint(name="alpha", tags="x")
    fleet.new_endpoint(name="beta", status={"id": 1})
    fleet.new_endpoint(name="alphabet")
    names = lambda **p: [e["name"] for e in fleet.get("/api/v1/endpoint", params=p).json()]  # noqa: E731
    assert names(q="name:alpha") == ["alpha", "alphabet"]
    assert names(q="status:1") == ["beta"]
    assert names(q="status:0,name:bet") == ["alphabet"]
    assert names(sort="-name") == ["beta", "alphabet", "alpha"]
    assert names(sort="status,-id") == ["alphabet", "alpha", "beta"]
    r = fleet.get("/api/v1/endpoint", params={"q": "colour:red"})
    assert r.status_code == 422 and "colour" in r.json()["message"]
    assert r.json()["errors"][0]["field"] == "q"
    r = fleet.get("/api/v1/endpoint", params={"sort": "-nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"
    assert fleet.get("/api/v1/endpoint", params={"q": "status:x"}).status_code == 422
    total = fleet.get("/api/v1/endpoint", params={"q": "name:alpha"}).headers["X-Total-Count"]
    assert total == "2"


def test_patch_updates_fields_and_refuses_bad_input_by_field(fleet: Fleet) -> None:
    ep = fleet.new_endpoint().json()
    path = f"/api/v1/endpoint/{ep['id']}"
    assert fleet.patch(path, {"name": "renamed", "status": {"id": 1}}).status_code == 204
    got = fleet.get(path).json()
    assert got["name"] == "renamed" and got["status"]["id"] == 1
    assert got["last_updated"] > ep["last_updated"]
    for body, field in [
        ({"imei": "12"}, "imei"),
        ({"status": {"id": 2}}, "status"),
        ({"status": {"id": 7}}, "status"),
        ({"imei_lock": True}, "imei_lock"),
        ({"service_profile": {"id": 999}}, "service_profile"),
        ({"ip_address": "10.0.0.1"}, "ip_address"),
    ]:
        r = fleet.patch(path, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert fleet.get(path).json()["name"] == "renamed"


def test_readdressing_frees_the_old_address(fleet: Fleet) -> None:
    ep = fleet.new_endpoint().json()
    path = f"/api/v1/endpoint/{ep['id']}"
    assert fleet.patch(path, {"ip_address": "100.64.0.77"}).status_code == 204
    assert fleet.get(path).json()["ip_address"] == "100.64.0.77"
    assert fleet.new_endpoint().json()["ip_address"] == "100.64.0.1"
    other = fleet.new_endpoint().json()
    r = fleet.patch(f"/api/v1/endpoint/{other['id']}", {"ip_address": "100.64.0.77"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "ip_address"


def test_create_with_bad_references_writes_nothing(fleet: Fleet) -> None:
    sp, tp = fleet.profiles()
    body = {"status": {"id": 0}, "service_profile": {"id": sp}, "tariff_profile": {"id": tp}}
    cases = [
        ({**body, "tariff_profile": {"id": 999}}, 422, "tariff_profile"),
        ({**body, "sim": {"id": 999}}, 422, "sim"),
        ({**body, "ip_address_space": {"id": 999}}, 404, "ip_address_space"),
        ({**body, "ip_address": "100.64.0.9"}, 422, "ip_address_space"),
        ({k: v for k, v in body.items() if k != "status"}, 422, "status"),
    ]
    for payload, status, field in cases:
        r = fleet.post("/api/v1/endpoint", payload)
        assert r.status_code == status, (payload, r.text)
        assert r.json()["errors"][0]["field"] == field
    assert fleet.get("/api/v1/endpoint").headers["X-Total-Count"] == "0"
    assert fleet.new_endpoint().json()["ip_address"] == "100.64.0.1"


def test_a_sim_links_to_exactly_one_endpoint(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 2, "B1"))
    fleet.register("acme", "B1", 1)
    a = fleet.new_endpoint(sim={"id": 1}).json()
    assert a["sim"]["id"] == 1 and a["sim"]["status"]["description"] == "Activated"
    b = fleet.new_endpoint().json()
    r = fleet.patch(f"/api/v1/endpoint/{b['id']}", {"sim": {"id": 1}})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "sim"
    r = fleet.new_endpoint(sim={"id": 1})
    assert r.status_code == 409
    r = fleet.delete(f"/api/v1/endpoint/{a['id']}")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "sim"
    assert fleet.patch(f"/api/v1/endpoint/{a['id']}", {"sim": {"id": None}}).status_code == 204
    assert fleet.patch(f"/api/v1/endpoint/{b['id']}", {"sim": {"id": 1}}).status_code == 204
    assert fleet.get("/api/v1/sim/1").json()["endpoint"]["id"] == b["id"]
    assert fleet.delete(f"/api/v1/endpoint/{a['id']}").status_code == 204


def test_connectivity_is_derived_from_stored_state(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
    fleet.register("acme", "B1", 1)
    ep = fleet.new_endpoint().json()
    path = f"/api/v1/endpoint/{ep['id']}/connectivity"
    assert fleet.get(path).json()["status"]["description"] == "OFFLINE"
    fleet.patch(f"/api/v1/endpoint/{ep['id']}", {"sim": {"id": 1}})
    online = fleet.get(path).json()
    assert online["status"] == {"id": 1, "description": "ONLINE"}
    assert online["pdp_context"]["ue_ip_address"] == ep["ip_address"]
    fleet.patch("/api/v1/sim/1", {"status": {"id": 2}})
    assert fleet.get(path).json()["status"]["description"] == "BLOCKED"
    assert fleet.patch(path, {"location": None}).status_code == 204
    info = fleet.get(f"/api/v1/endpoint/{ep['id']}/connectivity_info").json()
    assert info["subscriber_info"]["success"] is False


def test_events_of_an_endpoint(fleet: Fleet) -> None:
    ep = fleet.new_endpoint().json()
    fleet.patch(f"/api/v1/endpoint/{ep['id']}", {"name": "x"})
    r = fleet.get(f"/api/v1/endpoint/{ep['id']}/event")
    types = [e["event_type"]["description"] for e in r.json()]
    assert types == ["Endpoint updated", "Endpoint created"]
    # The same catalogue ids as GET /api/v1/event, so q=type:<id> means one thing everywhere.
    assert [e["event_type"]["id"] for e in r.json()] == [type_id(t) for t in types]
    assert all(e["endpoint"] == {"id": ep["id"], "name": "x"} for e in r.json())
    assert r.headers["X-Total-Count"] == "2"
    assert fleet.get(f"/api/v1/endpoint/{ep['id']}/event", org="globex").status_code == 404


def test_status_lookup(fleet: Fleet) -> None:
    assert fleet.get("/api/v1/endpoint/status").json() == [
        {"id": 0, "description": "Enabled"},
        {"id": 1, "description": "Disabled"},
        {"id": 2, "description": "Deleted"},
    ]


def test_other_tenants_get_404_and_observers_403(fleet: Fleet) -> None:
    ep = fleet.new_endpoint().json()
    path = f"/api/v1/endpoint/{ep['id']}"
    for call in (
        lambda: fleet.get(path, org="globex"),
        lambda: fleet.patch(path, {"name": "x"}, org="globex"),
        lambda: fleet.delete(path, org="globex"),
        lambda: fleet.get(path + "/connectivity", org="globex"),
    ):
        assert call().status_code == 404
    assert fleet.get("/api/v1/endpoint", org="globex").json() == []
    assert fleet.get(path, role="observer").status_code == 200
    assert fleet.patch(path, {"name": "x"}, role="observer").status_code == 403
    assert fleet.delete(path, role="observer").status_code == 403
    sp, _tp = fleet.profiles()
    assert fleet.new_endpoint("globex", service_profile={"id": sp}).status_code == 422
    assert fleet.get(path).json()["name"] == "dev"


def test_create_links_and_activates_the_sim_as_asked(fleet: Fleet) -> None:
    """issue 12 defect 2: ``sim.activate`` and ``sim.status`` on POST were ignored."""
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 3, "B1"))
    fleet.register("acme", "B1", 0)
    activated = fleet.new_endpoint(sim={"id": 1, "activate": True}).json()
    assert activated["sim"]["status"] == {"id": 1, "description": "Activated"}
    assert fleet.get("/api/v1/sim/1").json()["activation_date"]
    factory = fleet.new_endpoint(sim={"id": 2, "status": {"id": 4}}).json()
    assert factory["sim"]["status"]["description"] == "Factory Test"
    plain = fleet.new_endpoint(sim={"id": 3}).json()
    assert plain["sim"]["status"]["description"] == "Issued"
    # An illegal target is refused naming sim.status, and nothing is created.
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(4, 1, "B2"))
    fleet.register("acme", "B2", 0)
    before = fleet.get("/api/v1/endpoint").headers["X-Total-Count"]
    r = fleet.new_endpoint(sim={"id": 4, "status": {"id": 2}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sim.status"
    assert fleet.get("/api/v1/endpoint").headers["X-Total-Count"] == before
    assert fleet.get("/api/v1/sim/4").json()["status"]["id"] == 0


def test_patch_changes_the_sim_status(fleet: Fleet) -> None:
    """issue 12 defect 2: ``sim.status`` on PATCH was ignored."""
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
    fleet.register("acme", "B1", 1)
    ep = fleet.new_endpoint(sim={"id": 1}).json()
    path = f"/api/v1/endpoint/{ep['id']}"
    assert fleet.patch(path, {"sim": {"id": 1, "status": {"id": 2}}}).status_code == 204
    assert fleet.get(path).json()["sim"]["status"]["description"] == "Suspended"
    r = fleet.patch(path, {"sim": {"id": 1, "status": {"id": 0}}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sim.status"
    r = fleet.patch(path, {"sim": {"id": None, "status": {"id": 1}}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sim.status"
    assert fleet.get(path).json()["sim"]["status"]["description"] == "Suspended"


def test_unknown_fields_are_refused_naming_them(fleet: Fleet) -> None:
    """issue 12 defect 7: unknown body fields were silently ignored."""
    r = fleet.new_endpoint(colour="red")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    assert "colour" in r.json()["message"]
    r = fleet.new_endpoint(sim={"id": 1, "activated": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sim.activated"
    assert fleet.get("/api/v1/endpoint").headers["X-Total-Count"] == "0"
    ep = fleet.new_endpoint().json()
    r = fleet.patch(f"/api/v1/endpoint/{ep['id']}", {"nmae": "typo"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "nmae"
    # Spec fields are known: references may echo a read object, and the own organisation
    # may be named (another one is unknown: 404).
    ok = fleet.new_endpoint(organisation={"id": fleet.orgs["acme"]},
                            status={"id": 0, "description": "Enabled"})  # fmt: skip
    assert ok.status_code == 201, ok.text
    r = fleet.new_endpoint(organisation={"id": fleet.orgs["globex"]})
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "organisation.id"
