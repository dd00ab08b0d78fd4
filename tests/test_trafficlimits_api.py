"""Services of service profiles, monthly data limits, predefined SMS limits and endpoints'
traffic limit extensions: emnify's routes and shapes, and enforcement on usage."""

from __future__ import annotations

from datetime import timedelta

from linkplane.usage import service as usage
from tests.emnify_spec import check
from tests.sms_support import device, in_session, own_profile, types
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

LIMITS = "/api/v1/service_profile/{profile_id}/traffic_limit"
EXTENSIONS = "/api/v1/endpoint/{endpoint_id}/traffic_limit_extension"
PROFILE = "/api/v1/service_profile/{profile_id}"


def _use(fleet: Fleet, eid: int, nbytes: int, day: object = None) -> usage.Recorded:
    row = usage.UsageIn(endpoint_id=eid, day=day or usage.today_utc(), bytes_tx=0,
                        bytes_rx=nbytes)  # fmt: skip
    result: usage.Recorded = in_session(fleet, usage.store_usage, rows=[row])
    return result


def _status(fleet: Fleet, eid: int) -> str:
    found: str = fleet.get(f"/api/v1/endpoint/{eid}/connectivity").json()["status"]["description"]
    return found


def test_services_of_a_profile(fleet: Fleet) -> None:
    sp = fleet.post("/api/v1/service_profile", {"name": "svc"}).json()["id"]
    profile = fleet.get(f"/api/v1/service_profile/{sp}").json()
    check("GET", PROFILE, 200, profile)
    assert [s["id"] for s in profile["service"]] == [1, 2, 38]
    put = fleet.client.put
    hdr = fleet.as_("acme")
    assert put(f"/api/v1/service_profile/{sp}/service/3", headers=hdr).status_code == 204
    assert put(f"/api/v1/service_profile/{sp}/service/3", headers=hdr).status_code == 409
    assert put(f"/api/v1/service_profile/{sp}/service/99", headers=hdr).status_code == 404
    got = fleet.get(f"/api/v1/service_profile/{sp}").json()["service"]
    assert {"id": 3, "description": "Voice", "traffic_limit": []} in got
    assert fleet.delete(f"/api/v1/service_profile/{sp}/service/3").status_code == 204
    assert fleet.delete(f"/api/v1/service_profile/{sp}/service/3").status_code == 404
    assert fleet.post(f"/api/v1/service_profile/{sp}/traffic_limit",
                      {"service": {"id": 38}, "volume": 10}).status_code == 201  # fmt: skip
    r = fleet.delete(f"/api/v1/service_profile/{sp}/service/38")
    assert r.status_code == 409 and "traffic limits" in r.json()["message"]
    catalogue = fleet.get("/api/v1/service").json()
    assert {s["id"]: s["description"] for s in catalogue} == {
        1: "SMS MT", 2: "SMS MO", 3: "Voice", 38: "Data"}  # fmt: skip


def test_data_limit_routes_conform_and_refuse_bad_input(fleet: Fleet) -> None:
    sp = fleet.post("/api/v1/service_profile", {"name": "lim"}).json()["id"]
    url = f"/api/v1/service_profile/{sp}/traffic_limit"
    body = {"service": {"id": "38"}, "period": {"id": "2"}, "volume": 10**9, "warning_percent": 80}
    r = fleet.post(url, body)
    assert r.status_code == 201, r.text
    check("POST", LIMITS, 201, r.json())
    assert fleet.post(url, body).status_code == 409  # one per service and RAT kind
    assert fleet.post(url, {**body, "satellite_only": True}).status_code == 201
    listed = fleet.get(url).json()
    check("GET", LIMITS, 200, listed)
    assert [(x["satellite_only"], x["period"]["unit"]) for x in listed] == [
        (False, "month"), (True, "month")]  # fmt: skip
    for bad, field in [({**body, "service": {"id": 1}}, "service.id"),
                       ({**body, "period": {"id": 1}}, "period.id"),
                       ({**body, "volume": 0}, "volume"),
                       ({**body, "warning_percent": 101}, "warning_percent"),
                       ({**body, "colour": 1}, "colour")]:  # fmt: skip
        r = fleet.post(url, bad)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert fleet.delete(f"{url}/{listed[1]['id']}").status_code == 204
    assert fleet.delete(f"{url}/{listed[1]['id']}").status_code == 404
    assert fleet.delete(url).status_code == 204
    assert fleet.get(url).json() == []


def test_monthly_data_limit_blocks_until_extended_or_next_month(fleet: Fleet) -> None:
    eid = device(fleet)
    sp = own_profile(fleet, eid)
    fleet.post(f"/api/v1/service_profile/{sp}/traffic_limit",
               {"service": {"id": 38}, "volume": 1000, "warning_percent": 80})  # fmt: skip
    assert _use(fleet, eid, 900).refused == []
    assert "Traffic limit warning" in types(fleet, eid)
    refused = _use(fleet, eid, 200).refused
    limit_id = fleet.get(f"/api/v1/service_profile/{sp}/traffic_limit").json()[0]["id"]
    assert [(r.refused_bytes, r.reason) for r in refused] == [
        (100, f"its monthly data limit {limit_id} is reached")]  # fmt: skip
    assert "Traffic limit reached" in types(fleet, eid) and _status(fleet, eid) == "BLOCKED"

    url = f"/api/v1/endpoint/{eid}/traffic_limit_extension"
    r = fleet.post(url, {"volume": 500})
    assert r.status_code == 201, r.text
    check("POST", EXTENSIONS, 201, r.json())
    check("GET", EXTENSIONS, 200, fleet.get(url).json())
    assert r.json()["expiration_date"].endswith("-01T00:00:00Z")  # the month's end
    assert _status(fleet, eid) == "ONLINE"
    assert _use(fleet, eid, 600).refused[0].refused_bytes == 100
    # Last month's traffic counts against last month's limit, not this one's.
    last_month = usage.today_utc().replace(day=1) - timedelta(days=1)
    assert _use(fleet, eid, 900, day=last_month).refused == []
    assert fleet.delete(url).status_code == 204
    assert fleet.get(url).json() == [] and _status(fleet, eid) == "BLOCKED"
    assert fleet.post(url, {"volume": 1, "traffic_limit_id": 987654}).status_code == 404


def test_extension_needs_a_limit_and_an_own_endpoint(fleet: Fleet) -> None:
    eid = device(fleet)
    own_profile(fleet, eid)
    url = f"/api/v1/endpoint/{eid}/traffic_limit_extension"
    r = fleet.post(url, {"volume": 100})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "traffic_limit_id"
    assert fleet.post(url, {"volume": 100}, org="globex").status_code == 404
    assert fleet.get(url, org="globex").status_code == 404


def test_profile_without_data_service_gets_no_traffic(fleet: Fleet) -> None:
    eid = device(fleet)
    sp = own_profile(fleet, eid)
    fleet.delete(f"/api/v1/service_profile/{sp}/service/38")
    refused = _use(fleet, eid, 5000).refused
    assert refused[0].reason == "its service profile does not offer Data (service 38)"
    assert _status(fleet, eid) == "BLOCKED"


def test_predefined_sms_limits(fleet: Fleet) -> None:
    assert [x["id"] for x in fleet.get("/api/v1/service/2/traffic_limit").json()] == [4, 5, 6]
    assert fleet.get("/api/v1/service/77/traffic_limit").status_code == 404
    assert len(fleet.get("/api/v1/traffic_limit").json()) == 6
    sp = fleet.post("/api/v1/service_profile", {"name": "sms"}).json()["id"]
    put, hdr = fleet.client.put, fleet.as_("acme")
    base = f"/api/v1/service_profile/{sp}/service"
    assert put(f"{base}/2/traffic_limit/1", headers=hdr).status_code == 404  # an MT limit
    assert put(f"{base}/2/traffic_limit/5", headers=hdr).status_code == 200
    got = fleet.get(f"/api/v1/service_profile/{sp}").json()["service"]
    assert next(s for s in got if s["id"] == 2)["traffic_limit"] == [
        {"id": 5, "volume": 100, "period": {"id": 1, "time_units": 1, "unit": "day"}}]  # fmt: skip
    assert fleet.delete(f"{base}/2").status_code == 409  # it has a limit
    assert fleet.delete(f"{base}/2/traffic_limit/5").status_code == 200
    assert fleet.delete(f"{base}/2/traffic_limit/5").status_code == 404
    assert fleet.delete(f"{base}/2").status_code == 204
    r = put(f"{base}/2/traffic_limit/5", headers=hdr)
    assert r.status_code == 422 and "not on service profile" in r.json()["message"]
