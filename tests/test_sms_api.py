"""SMS to and from endpoints: emnify's routes and states, held SMS, the simulated device."""

from __future__ import annotations

from datetime import timedelta

from linkplane.access.network import Network
from linkplane.callbacks.models import CallbackDelivery
from linkplane.db import utcnow
from linkplane.sms import device
from linkplane.sms import service as sms_service
from tests.emnify_spec import check
from tests.sms_support import device as new_device
from tests.sms_support import in_session, own_profile, types
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

LIST = "/api/v1/endpoint/{endpoint_id}/sms"
ONE = "/api/v1/endpoint/{endpoint_id}/sms/{sms_id}"


def _receive(fleet: Fleet, eid: int, org: str = "acme", **kw: object) -> device.Reception:
    org_id = fleet.orgs[org]
    kw.setdefault("network", Network())
    result: device.Reception = in_session(fleet, device.receive, org_id=org_id, endpoint_id=eid,
                                          **kw)  # fmt: skip
    return result


def test_mt_sms_is_submitted_delivered_and_conforms(fleet: Fleet) -> None:
    eid = new_device(fleet)
    r = fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "REBOOT", "source_address": "EMNIFY"})
    assert r.status_code == 201, r.text
    sms = r.json()
    assert r.headers["Location"].endswith(f"/api/v1/endpoint/{eid}/sms/{sms['id']}")
    assert sms["status"] == {"id": 1, "description": "PENDING"}
    assert sms["sms_type"] == {"id": 1, "description": "MT"}
    assert sms["source_address_type"]["id"] == 208  # alphanumeric, inferred
    listed = fleet.get(f"/api/v1/endpoint/{eid}/sms")
    check("GET", LIST, 200, listed.json())
    assert listed.headers["X-Total-Count"] == "1"

    got = _receive(fleet, eid)
    assert [s.id for s in got.delivered] == [sms["id"]] and got.refused is None
    one = fleet.get(f"/api/v1/endpoint/{eid}/sms/{sms['id']}").json()
    check("GET", ONE, 200, one)
    assert one["status"] == {"id": 4, "description": "DELIVERED"}
    assert one["delivery_date"] and one["final_date"] and one["msisdn"]
    assert types(fleet, eid)[-2:] == ["SMS submitted", "SMS delivered"]
    # Delivered is final: it cannot be canceled.
    r = fleet.delete(f"/api/v1/endpoint/{eid}/sms/{sms['id']}")
    assert r.status_code == 409 and "DELIVERED" in r.json()["message"]


def test_unacknowledged_sms_is_buffered_and_can_be_canceled(fleet: Fleet) -> None:
    eid = new_device(fleet)
    sms_id = fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "hi"}).json()["id"]
    got = _receive(fleet, eid, acknowledge=False)
    assert [s.id for s in got.unacknowledged] == [sms_id]
    one = fleet.get(f"/api/v1/endpoint/{eid}/sms/{sms_id}").json()
    assert one["status"]["id"] == 3 and one["gsm_map_error"] == device.NO_REPORT
    _receive(fleet, eid, acknowledge=False)
    assert fleet.get(f"/api/v1/endpoint/{eid}/sms/{sms_id}").json()["retry_count"] == 1

    r = fleet.delete(f"/api/v1/endpoint/{eid}/sms/{sms_id}")
    assert r.status_code == 200
    check("DELETE", ONE, 200, r.json())
    assert r.json()["status"] == {"id": 7, "description": "CANCELED"}
    assert fleet.delete(f"/api/v1/endpoint/{eid}/sms/{sms_id}").status_code == 409
    assert _receive(fleet, eid).delivered == []  # a canceled SMS is never delivered


def test_sms_not_delivered_in_time_expires(fleet: Fleet) -> None:
    eid = new_device(fleet)
    soon = (utcnow() + timedelta(minutes=5)).isoformat()
    sms_id = fleet.post(f"/api/v1/endpoint/{eid}/sms",
                        {"payload": "late", "expiry_date": soon}).json()["id"]  # fmt: skip
    later = utcnow() + timedelta(minutes=6)
    rows, _, _ = in_session(fleet, sms_service.list_for_endpoint, org_id=fleet.orgs["acme"],
                            endpoint_id=eid, offset=0, limit=10, now=later)  # fmt: skip
    assert rows[0].id == sms_id and rows[0].status == 6
    assert "SMS expired" in types(fleet, eid)
    assert _receive(fleet, eid, now=later).delivered == []


def test_bad_sms_requests_are_refused_and_store_nothing(fleet: Fleet) -> None:
    eid = new_device(fleet)
    url = f"/api/v1/endpoint/{eid}/sms"
    cases = [
        ({}, "payload"),
        ({"payload": "x" * 161}, "payload"),
        ({"payload": "x", "udh": "XYZ"}, "udh"),
        ({"payload": "x", "colour": "red"}, "colour"),
        ({"payload": "x", "source_address": "ALongSenderName"}, "source_address"),
        ({"payload": "x", "source_address": "abc", "source_address_type": {"id": 145}},
         "source_address"),
        ({"payload": "x", "source_address_type": {"id": 7}}, "source_address_type.id"),
        ({"payload": "x", "expiry_date": "2001-01-01T00:00:00Z"}, "expiry_date"),
    ]  # fmt: skip
    for body, field in cases:
        r = fleet.post(url, body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert fleet.get(url).json() == []
    # Another organisation: 404; an observer: 403; an endpoint without SIM: 422.
    assert fleet.post(url, {"payload": "x"}, org="globex").status_code == 404
    assert fleet.post(url, {"payload": "x"}, role="observer").status_code == 403
    bare = fleet.new_endpoint().json()["id"]
    r = fleet.post(f"/api/v1/endpoint/{bare}/sms", {"payload": "x"})
    assert r.status_code == 422 and "no SIM" in r.json()["message"]


def test_profile_without_sms_mt_refuses_submission(fleet: Fleet) -> None:
    eid = new_device(fleet)
    sp = own_profile(fleet, eid)
    assert fleet.delete(f"/api/v1/service_profile/{sp}/service/1").status_code == 204
    r = fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "x"})
    assert r.status_code == 422
    assert f"PUT /api/v1/service_profile/{sp}/service/1" in r.json()["message"]


def test_sms_quota_holds_mt_sms_until_raised(fleet: Fleet) -> None:
    eid = new_device(fleet)
    own_profile(fleet, eid, apply_sms_quota=True)
    url = f"/api/v1/endpoint/{eid}/sms"
    first = fleet.post(url, {"payload": "one"}).json()
    assert first["status"]["id"] == 3 and "no SMS quota" in first["gsm_map_error"]
    assert types(fleet, eid)[-1] == "SMS buffered"

    quota = {"status": {"id": 1}, "volume": 1, "expiry_date": "2099-01-01T00:00:00Z",
             "threshold_percentage": 0}  # fmt: skip
    assert fleet.post(f"/api/v1/endpoint/{eid}/quota/sms", quota).status_code == 201
    second = fleet.post(url, {"payload": "two"}).json()
    assert second["status"]["id"] == 1
    got = _receive(fleet, eid)
    # One SMS left on the quota: the oldest is delivered, the other held.
    assert [s.id for s in got.delivered] == [first["id"]]
    assert [(s.id, why) for s, why in got.held] == [(second["id"], "its SMS quota is used up")]
    q = fleet.get(f"/api/v1/endpoint/{eid}/quota/sms").json()
    assert q["status"] == {"id": "2", "description": "EXHAUSTED"} and q["volume"] == 0
    assert "Quota used up" in types(fleet, eid)

    assert fleet.post(f"/api/v1/endpoint/{eid}/quota/sms", quota).status_code == 201
    assert [s.id for s in _receive(fleet, eid).delivered] == [second["id"]]


def test_sms_limit_of_the_service_caps_a_day(fleet: Fleet) -> None:
    eid = new_device(fleet)
    sp = own_profile(fleet, eid)
    r = fleet.client.put(f"/api/v1/service_profile/{sp}/service/1/traffic_limit/1",
                         headers=fleet.as_("acme"))  # fmt: skip
    assert r.status_code == 200 and r.json() == {}
    for n in range(11):
        fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": f"n{n}"})
    got = _receive(fleet, eid)
    assert len(got.delivered) == 10
    assert [why for _, why in got.held] == ["its SMS limit 1 (10 per day) is reached"]


def test_device_sends_mo_sms_queued_for_the_callback(fleet: Fleet) -> None:
    eid = new_device(fleet)
    sp = own_profile(fleet, eid)
    cb = fleet.post("/api/v1/api_callback", {"url": "https://receiver.example.com/sms"}).json()
    assert fleet.patch(f"/api/v1/service_profile/{sp}",
                       {"api_callback": {"id": cb["id"]}}).status_code == 204  # fmt: skip
    fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "ping", "dest_address": "app42"})
    sent: device.Sent = in_session(fleet, device.send, org_id=fleet.orgs["acme"], endpoint_id=eid,
                                   payload="pong", network=Network())  # fmt: skip
    assert sent.refused is None and sent.callback_queued and sent.sms is not None
    mo = fleet.get(f"/api/v1/endpoint/{eid}/sms/{sent.sms.id}").json()
    check("GET", ONE, 200, mo)
    assert mo["sms_type"] == {"id": 2, "description": "MO"}
    assert mo["status"]["id"] == 4 and mo["dest_address"] == "app42"  # a reply to the MT
    assert mo["source_address"] == mo["msisdn"]
    with fleet.ctx.sessionmaker() as session:
        queued = session.query(CallbackDelivery).filter_by(sms_id=sent.sms.id).one()
        assert queued.state == "pending" and '"payload":"pong"' in queued.body
    assert types(fleet, eid)[-1] == "SMS received"


def test_mo_sms_without_callback_or_refused(fleet: Fleet) -> None:
    eid = new_device(fleet)
    own_profile(fleet, eid, apply_sms_quota=True)
    sent = in_session(fleet, device.send, org_id=fleet.orgs["acme"], endpoint_id=eid,
                      payload="x", network=Network())  # fmt: skip
    assert sent.sms is None and sent.refused.startswith("no SMS quota")
    assert types(fleet, eid)[-1] == "SMS refused"
    assert fleet.get(f"/api/v1/endpoint/{eid}/sms").json() == []


def test_endpoints_and_profiles_are_deleted_with_everything_hanging_off_them(
    fleet: Fleet,
) -> None:
    from sqlalchemy import func, select

    from linkplane.blocklists.models import EndpointOperatorBlacklist, TariffRatBlock
    from linkplane.quotas.models import EndpointQuota
    from linkplane.sms.models import Sms
    from linkplane.trafficlimits.models import DataLimit, ProfileService

    eid = new_device(fleet)
    sp = own_profile(fleet, eid)
    tp = fleet.post("/api/v1/tariff_profile", {"name": "tp-del"}).json()["id"]
    fleet.patch(f"/api/v1/endpoint/{eid}", {"tariff_profile": {"id": tp}})
    cb = fleet.post("/api/v1/api_callback", {"url": "https://hooks.example.com/"}).json()
    fleet.patch(f"/api/v1/service_profile/{sp}", {"api_callback": {"id": cb["id"]}})
    fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "x"})
    in_session(fleet, device.send, org_id=fleet.orgs["acme"], endpoint_id=eid, payload="y",
               network=Network())  # fmt: skip
    quota = {"status": {"id": 1}, "volume": 1, "expiry_date": "2099-01-01T00:00:00Z"}
    fleet.post(f"/api/v1/endpoint/{eid}/quota/data", quota)
    fleet.client.put(f"/api/v1/endpoint/{eid}/operator_blacklist/2", headers=fleet.as_("acme"))
    fleet.post(f"/api/v1/service_profile/{sp}/traffic_limit", {"service": {"id": 38}, "volume": 9})
    fleet.post(f"/api/v1/endpoint/{eid}/traffic_limit_extension", {"volume": 1})
    fleet.post(f"/api/v2/tariff_profile/{tp}/operator_blocklist/operator/1/rat_type",
               {"rat_types": [{"id": 2}]})  # fmt: skip

    assert fleet.patch(f"/api/v1/endpoint/{eid}", {"sim": {"id": None}}).status_code == 204
    assert fleet.delete(f"/api/v1/endpoint/{eid}").status_code == 204
    assert fleet.delete(f"/api/v1/service_profile/{sp}").status_code == 204
    assert fleet.delete(f"/api/v1/tariff_profile/{tp}").status_code == 204
    assert fleet.delete(f"/api/v1/api_callback/{cb['id']}").status_code == 204  # no longer used
    with fleet.ctx.sessionmaker() as session:
        for model in (Sms, CallbackDelivery, EndpointQuota, EndpointOperatorBlacklist,
                      DataLimit, TariffRatBlock):  # fmt: skip
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalar(select(func.count()).select_from(ProfileService).where(
            ProfileService.service_profile_id == sp)) == 0  # fmt: skip
