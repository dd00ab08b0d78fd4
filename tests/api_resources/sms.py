"""SMS, callbacks, quotas, traffic limits and blocklists in the isolation harness."""

from __future__ import annotations

from typing import Any

from tests.api_harness import Harness, lookup, resource
from tests.api_resources.fleet import _endpoint_body, sim

lookup(
    "/api/v1/rat_type",
    "/api/v1/service",
    "/api/v1/service/{service_id}/traffic_limit",
    "/api/v1/traffic_limit",
)


def _endpoint_with_sim(h: Harness) -> int:
    body = {**_endpoint_body(h), "sim": {"id": sim(h)["sim_id"]}}
    r = h.client.post("/api/v1/endpoint", json=body, headers=h.owner.admin)
    return h.location_id(r)


def _ok(r: Any) -> Any:
    assert r.status_code < 300, r.text
    return r


@resource(
    "/api/v1/endpoint/{endpoint_id}/sms",
    "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}",
    bodies={"POST /api/v1/endpoint/{endpoint_id}/sms": {"payload": "hello"}},
)
def endpoint_sms(h: Harness) -> dict[str, Any]:
    eid = _endpoint_with_sim(h)
    r = _ok(
        h.client.post(
            f"/api/v1/endpoint/{eid}/sms", json={"payload": h.unique("sms")}, headers=h.owner.admin
        )
    )
    return {"endpoint_id": eid, "sms_id": r.json()["id"]}


QUOTA = {
    "status": {"id": 1},
    "volume": 5,
    "expiry_date": "2099-01-01T00:00:00Z",
    "action_on_exhaustion": {"id": 1},
    "threshold_percentage": 10,
}


@resource(
    "/api/v1/endpoint/{endpoint_id}/quota/data",
    "/api/v1/endpoint/{endpoint_id}/quota/sms",
    bodies={
        "POST /api/v1/endpoint/{endpoint_id}/quota/data": QUOTA,
        "POST /api/v1/endpoint/{endpoint_id}/quota/sms": QUOTA,
    },
)
def endpoint_quotas(h: Harness) -> dict[str, Any]:
    eid = _endpoint_with_sim(h)
    for kind in ("data", "sms"):
        _ok(
            h.client.post(f"/api/v1/endpoint/{eid}/quota/{kind}", json=QUOTA, headers=h.owner.admin)
        )
    return {"endpoint_id": eid}


@resource(
    "/api/v1/endpoint/{endpoint_id}/operator_blacklist",
    "/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}",
)
def endpoint_blacklist(h: Harness) -> dict[str, Any]:
    eid = _endpoint_with_sim(h)
    _ok(h.client.put(f"/api/v1/endpoint/{eid}/operator_blacklist/2", headers=h.owner.admin))
    return {"endpoint_id": eid, "operator_id": 2}


def _profile(h: Harness) -> int:
    r = h.client.post(
        "/api/v1/service_profile", json={"name": h.unique("sp")}, headers=h.owner.admin
    )
    return h.location_id(r)


def _data_limit(h: Harness, profile_id: int) -> int:
    r = _ok(
        h.client.post(
            f"/api/v1/service_profile/{profile_id}/traffic_limit",
            json={"service": {"id": 38}, "volume": 10**6},
            headers=h.owner.admin,
        )
    )
    return int(r.json()["id"])


@resource(
    "/api/v1/endpoint/{endpoint_id}/traffic_limit_extension",
    bodies={"POST /api/v1/endpoint/{endpoint_id}/traffic_limit_extension": {"volume": 10}},
)
def traffic_limit_extension(h: Harness) -> dict[str, Any]:
    eid = _endpoint_with_sim(h)
    sp = h.client.get(f"/api/v1/endpoint/{eid}", headers=h.owner.admin).json()["service_profile"]
    if not h.client.get(
        f"/api/v1/service_profile/{sp['id']}/traffic_limit", headers=h.owner.admin
    ).json():
        _data_limit(h, sp["id"])
    _ok(
        h.client.post(
            f"/api/v1/endpoint/{eid}/traffic_limit_extension",
            json={"volume": 99},
            headers=h.owner.admin,
        )
    )
    return {"endpoint_id": eid}


@resource(
    "/api/v1/service_profile/{profile_id}/traffic_limit",
    "/api/v1/service_profile/{profile_id}/traffic_limit/{limit_id}",
    bodies={
        "POST /api/v1/service_profile/{profile_id}/traffic_limit": {
            "service": {"id": 38},
            "volume": 5,
            "satellite_only": True,
        }
    },
)
def data_limits(h: Harness) -> dict[str, Any]:
    sp = _profile(h)
    return {"profile_id": sp, "limit_id": _data_limit(h, sp)}


@resource(
    "/api/v1/service_profile/{profile_id}/service/{service_id}",
    "/api/v1/service_profile/{profile_id}/service/{service_id}/traffic_limit/{limit_id}",
    "/api/v1/service_profile/{profile_id}/quota/{quota_type}",
)
def profile_services(h: Harness) -> dict[str, Any]:
    sp = _profile(h)
    _ok(
        h.client.put(
            f"/api/v1/service_profile/{sp}/service/2/traffic_limit/5", headers=h.owner.admin
        )
    )
    return {"profile_id": sp, "service_id": 2, "limit_id": 5, "quota_type": "sms"}


BLOCKLIST = "/api/v2/tariff_profile/{tariff_profile_id}/operator_blocklist/operator"


@resource(
    BLOCKLIST,
    BLOCKLIST + "/{operator_id}",
    BLOCKLIST + "/{operator_id}/rat_type",
    BLOCKLIST + "/{operator_id}/rat_type/{rate_type_id}",
    bodies={f"POST {BLOCKLIST}/{{operator_id}}/rat_type": {"rat_types": [{"id": 8}]}},
)
def tariff_blocklist(h: Harness) -> dict[str, Any]:
    r = h.client.post(
        "/api/v1/tariff_profile", json={"name": h.unique("tp")}, headers=h.owner.admin
    )
    tp = h.location_id(r)
    base = f"/api/v2/tariff_profile/{tp}/operator_blocklist/operator/3"
    _ok(h.client.put(base, headers=h.owner.admin))
    _ok(h.client.post(f"{base}/rat_type", json={"rat_types": [{"id": 6}]}, headers=h.owner.admin))
    return {"tariff_profile_id": tp, "operator_id": 3, "rate_type_id": 6}


@resource(
    "/api/v1/api_callback",
    "/api/v1/api_callback/{api_callback_id}",
    bodies={
        "POST /api/v1/api_callback": lambda h: {"url": f"https://{h.unique('cb')}.example.com/"}
    },
)
def api_callback(h: Harness) -> dict[str, Any]:
    r = h.client.post(
        "/api/v1/api_callback",
        json={"url": f"https://{h.unique('cb')}.example.com/sms"},
        headers=h.owner.admin,
    )
    return {"api_callback_id": h.location_id(r)}


@resource(
    "/api/v1/api_secret",
    "/api/v1/api_secret/{api_secret_id}",
    bodies={"POST /api/v1/api_secret": lambda h: {"purpose": h.unique("p")}},
)
def api_secret(h: Harness) -> dict[str, Any]:
    r = h.client.post(
        "/api/v1/api_secret", json={"purpose": h.unique("secret")}, headers=h.owner.admin
    )
    return {"api_secret_id": h.location_id(r)}
