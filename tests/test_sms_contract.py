"""Every operation this feature serves from emnify's descriptions, called once with a valid
request (and the documented error cases), each answer checked against the published
schema. Tolerated description defects, each with its reason:

- 204 answers are declared with a JSON body; a 204 has none (RFC 9110), so none is sent.
- ``GET /api/v2/tariff_profile/{id}/operator_blocklist/operator`` is declared as one object
  for the whole list; linkplane answers a list whose items have the declared shape.
"""

from __future__ import annotations

from typing import Any

from tests.emnify_spec import check
from tests.sms_support import device, own_profile, profile_of
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

EP = "/api/v1/endpoint/{endpoint_id}"
SP = "/api/v1/service_profile/{profile_id}"
TP = "/api/v2/tariff_profile/{tariff_profile_id}/operator_blocklist/operator"
QUOTA = {"status": {"id": 1}, "volume": 3, "expiry_date": "2099-01-01T00:00:00Z",
         "action_on_exhaustion": {"id": 1}, "threshold_percentage": 10}  # fmt: skip


def _call(fleet: Fleet, method: str, template: str, params: dict[str, Any], status: int,
          body: Any = None) -> Any:  # fmt: skip
    path = template.format(**params)
    r = fleet.client.request(method, path, json=body, headers=fleet.as_("acme"))
    assert r.status_code == status, (method, path, r.text)
    if status == 204:
        assert r.content == b""
        return None
    check(method, template, status, r.json())
    return r.json()


def test_every_served_operation_answers_the_published_shape(fleet: Fleet) -> None:
    eid = device(fleet)
    sp = own_profile(fleet, eid)
    _, tp = profile_of(fleet, eid)
    p = {"endpoint_id": eid, "profile_id": sp, "tariff_profile_id": tp}
    sms = _call(fleet, "POST", EP + "/sms", p, 201, {"payload": "x", "source_address": "123"})
    p["sms_id"] = sms["id"]
    _call(fleet, "GET", EP + "/sms", p, 200)
    _call(fleet, "GET", EP + "/sms/{sms_id}", p, 200)
    _call(fleet, "DELETE", EP + "/sms/{sms_id}", p, 200)

    p["operator_id"] = 4
    _call(fleet, "PUT", EP + "/operator_blacklist/{operator_id}", p, 204)
    _call(fleet, "PUT", EP + "/operator_blacklist/{operator_id}", p, 409)
    _call(fleet, "GET", EP + "/operator_blacklist", p, 200)
    _call(fleet, "DELETE", EP + "/operator_blacklist/{operator_id}", p, 204)
    _call(fleet, "DELETE", EP + "/operator_blacklist/{operator_id}", p, 404)

    for kind in ("data", "sms"):
        _call(fleet, "POST", EP + f"/quota/{kind}", p, 201, QUOTA)
        _call(fleet, "GET", EP + f"/quota/{kind}", p, 200)
        _call(fleet, "DELETE", EP + f"/quota/{kind}", p, 204)
    p["quota_type"] = "sms"
    _call(fleet, "DELETE", SP + "/quota/{quota_type}", p, 204)

    p["service_id"], p["limit_id"] = 3, 1
    _call(fleet, "PUT", SP + "/service/{service_id}", p, 204)
    _call(fleet, "PUT", SP + "/service/{service_id}", p, 409)
    _call(fleet, "DELETE", SP + "/service/{service_id}", p, 204)
    p["service_id"] = 1
    _call(fleet, "PUT", SP + "/service/{service_id}/traffic_limit/{limit_id}", p, 200)
    _call(fleet, "DELETE", SP + "/service/{service_id}/traffic_limit/{limit_id}", p, 200)

    limit = _call(fleet, "POST", SP + "/traffic_limit", p, 201,
                  {"service": {"id": "38"}, "period": {"id": "2"}, "volume": 10**6})  # fmt: skip
    _call(fleet, "GET", SP + "/traffic_limit", p, 200)
    _call(fleet, "POST", EP + "/traffic_limit_extension", p, 201, {"volume": 500})
    _call(fleet, "GET", EP + "/traffic_limit_extension", p, 200)
    _call(fleet, "DELETE", EP + "/traffic_limit_extension", p, 204)
    p["limit_id"] = limit["id"]
    _call(fleet, "DELETE", SP + "/traffic_limit/{limit_id}", p, 204)
    _call(fleet, "DELETE", SP + "/traffic_limit", p, 204)
    _call(fleet, "GET", SP, p, 200)

    p["operator_id"], p["rate_type_id"] = 2, 6
    _call(fleet, "PUT", TP + "/{operator_id}", p, 204)
    _call(fleet, "POST", TP + "/{operator_id}/rat_type", p, 204, {"rat_types": [{"id": 6}]})
    _call(fleet, "GET", TP + "/{operator_id}", p, 200)
    listed = fleet.get(TP.format(**p)).json()
    for item in listed:  # a list (see the module's docstring), items of the declared shape
        check("GET", TP + "/{operator_id}", 200, item)
    _call(fleet, "DELETE", TP + "/{operator_id}/rat_type/{rate_type_id}", p, 204)
    _call(fleet, "DELETE", TP + "/{operator_id}", p, 204)

    _call(fleet, "PATCH", EP + "/connectivity", p, 204, {"location": None})
    _call(fleet, "GET", EP + "/connectivity", p, 200)
