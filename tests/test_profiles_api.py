"""Service and tariff profiles, and the operator look-up."""

from __future__ import annotations

from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]


def test_service_profile_crud_and_cloud_connect_flag(fleet: Fleet) -> None:
    # api_callback is a reference now (linkplane.callbacks): an unknown one is refused.
    r = fleet.post("/api/v1/service_profile", {"name": "iot", "api_callback": {"id": 1}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "api_callback.id"
    r = fleet.post("/api/v1/service_profile", {"name": "iot"})
    assert r.status_code == 201
    pid = r.json()["id"]
    assert r.headers["Location"] == f"http://testserver/api/v1/service_profile/{pid}"
    got = fleet.get(f"/api/v1/service_profile/{pid}").json()
    assert got["allow_cloud_connect"] is False and got["allowed_4g"] is True
    assert got["used_count"] == "0"  # a string in emnify's description (issue 12 defect 6)
    r = fleet.patch(f"/api/v1/service_profile/{pid}", {"allow_cloud_connect": True})
    assert r.status_code == 204
    assert fleet.get(f"/api/v1/service_profile/{pid}").json()["allow_cloud_connect"] is True
    seeded = fleet.get("/api/v1/service_profile").json()[0]
    assert seeded["allow_cloud_connect"] is True  # the demo fleet may use Cloud Connect
    assert fleet.post("/api/v1/service_profile", {"description": "no name"}).status_code == 422
    assert fleet.delete(f"/api/v1/service_profile/{pid}").status_code == 204
    assert fleet.get(f"/api/v1/service_profile/{pid}").status_code == 404


def test_profiles_in_use_cannot_be_deleted(fleet: Fleet) -> None:
    fleet.new_endpoint()
    sp, tp = fleet.profiles()
    assert fleet.get(f"/api/v1/tariff_profile/{tp}").json()["used_count"] == "1"
    assert fleet.get(f"/api/v1/service_profile/{sp}").json()["used_count"] == "1"
    r = fleet.delete(f"/api/v1/service_profile/{sp}")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "service_profile"
    assert fleet.delete(f"/api/v1/tariff_profile/{tp}").status_code == 409


def test_tariff_profile_crud(fleet: Fleet) -> None:
    r = fleet.post("/api/v1/tariff_profile", {"name": "eu", "tariff": {"id": 1}})
    assert r.status_code == 201
    path = r.headers["Location"]
    assert path == f"http://testserver/api/v1/tariff_profile/{r.json()['id']}"
    assert fleet.patch(path, {"description": "Europe"}).status_code == 204
    assert fleet.get(path).json()["description"] == "Europe"
    assert len(fleet.get("/api/v1/tariff_profile").json()) == 2


def test_profiles_are_scoped_and_writes_need_a_writer(fleet: Fleet) -> None:
    sp, tp = fleet.profiles()
    for path in (f"/api/v1/service_profile/{sp}", f"/api/v1/tariff_profile/{tp}"):
        assert fleet.get(path, org="globex").status_code == 404
        assert fleet.patch(path, {"name": "x"}, org="globex").status_code == 404
        assert fleet.delete(path, org="globex").status_code == 404
        assert fleet.patch(path, {"name": "x"}, role="observer").status_code == 403
        assert fleet.get(path).json()["name"] == "Default"
    assert fleet.post("/api/v1/tariff_profile", {"name": "x"}, role="observer").status_code == 403
    names = [p["id"] for p in fleet.get("/api/v1/service_profile", org="globex").json()]
    assert sp not in names


def test_operators(fleet: Fleet) -> None:
    ops = fleet.get("/api/v1/operator", role="observer").json()
    assert len(ops) >= 5
    assert {"id", "name", "country", "mnc", "tapcode"} <= set(ops[0])
    # An integer in emnify's description (issue 12 defect 6).
    assert ops[0]["country"]["mcc"] == 262


def test_profile_bodies_refuse_unknown_fields(fleet: Fleet) -> None:
    """issue 12 defect 7: unknown profile body fields were silently ignored."""
    sp, tp = fleet.profiles()
    for path, body in [
        ("/api/v1/service_profile", {"name": "x", "allowed_5g": True}),
        ("/api/v1/tariff_profile", {"name": "x", "allowed_5g": True}),
        (f"/api/v1/service_profile/{sp}", {"allowed_5g": True}),
        (f"/api/v1/tariff_profile/{tp}", {"allowed_5g": True}),
    ]:
        r = fleet.post(path, body) if path.endswith("profile") else fleet.patch(path, body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["field"] == "allowed_5g"
    assert len(fleet.get("/api/v1/service_profile").json()) == 1
    assert len(fleet.get("/api/v1/tariff_profile").json()) == 1
    # Every field of emnify's description is accepted; the deprecated apply_quota applies.
    spec = {"name": "full", "prepaid": False, "dns": {"id": 1}, "moc_callback": {"id": 2},
            "esme_interface_type": {"id": 1}, "apply_quota": True}
    r = fleet.post("/api/v1/service_profile", spec)
    assert r.status_code == 201, r.text
    assert r.json()["apply_data_quota"] is True
    path = f"/api/v1/service_profile/{r.json()['id']}"
    assert fleet.patch(path, {"apply_quota": False}).status_code == 204
    assert fleet.get(path).json()["apply_data_quota"] is False
