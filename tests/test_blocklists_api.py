"""Operator blacklists of endpoints and operator/RAT blocklists of tariff profiles: emnify's
routes and shapes, and their enforcement where the simulators attach a device."""

from __future__ import annotations

from linkplane.access.network import Network
from linkplane.sms import device as sms_device
from linkplane.usage.simulate import simulate_usage
from tests.emnify_spec import check
from tests.sms_support import device, events, in_session, own_profile, profile_of
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

BLACKLIST = "/api/v1/endpoint/{endpoint_id}/operator_blacklist"
BLACKLISTED = BLACKLIST + "/{operator_id}"
BLOCK = "/api/v2/tariff_profile/{tariff_profile_id}/operator_blocklist/operator/{operator_id}"


def test_endpoint_operator_blacklist(fleet: Fleet) -> None:
    eid = device(fleet)
    url = f"/api/v1/endpoint/{eid}/operator_blacklist"
    assert fleet.get(url).json() == []
    assert fleet.client.put(f"{url}/2", headers=fleet.as_("acme")).status_code == 204
    again = fleet.client.put(f"{url}/2", headers=fleet.as_("acme"))
    assert again.status_code == 409
    check("PUT", BLACKLISTED, 409, again.json())
    listed = fleet.get(url).json()
    check("GET", BLACKLIST, 200, listed)
    assert [(o["id"], o["name"], o["country"]["name"]) for o in listed] == [
        (2, "Vodafone", "Germany")]  # fmt: skip
    assert fleet.client.put(f"{url}/999", headers=fleet.as_("acme")).status_code == 404
    assert fleet.client.put(f"{url}/3", headers=fleet.as_("acme", "observer")).status_code == 403
    assert fleet.get(url, org="globex").status_code == 404
    assert fleet.delete(f"{url}/2").status_code == 204
    gone = fleet.delete(f"{url}/2")
    assert gone.status_code == 404
    check("DELETE", BLACKLISTED, 404, gone.json())
    assert [e["event_type"]["description"] for e in events(fleet, eid)][-2:] == [
        "Operator blacklist updated", "Operator blacklist updated"]  # fmt: skip


def test_tariff_profile_operator_and_rat_blocklist(fleet: Fleet) -> None:
    tp = fleet.post("/api/v1/tariff_profile", {"name": "roaming"}).json()["id"]
    base = f"/api/v2/tariff_profile/{tp}/operator_blocklist/operator"
    put, hdr = fleet.client.put, fleet.as_("acme")
    assert fleet.get(base).json() == []
    assert put(f"{base}/3", headers=hdr).status_code == 204
    assert put(f"{base}/3", headers=hdr).status_code == 204  # idempotent
    rats = {"rat_types": [{"id": 6}, {"id": 8}]}
    assert fleet.post(f"{base}/3/rat_type", rats).status_code == 204
    one = fleet.get(f"{base}/3").json()
    check("GET", BLOCK, 200, one)
    blocked = [{"id": 6, "description": "4G"}, {"id": 8, "description": "NB-IoT"}]
    assert one == {"operator": {"id": 3, "name": "Telefonica O2"}, "tariff_profile": {"id": tp},
                   "blocklist": {"operator": True, "rat_types": blocked}}  # fmt: skip
    # Unblocking the operator keeps its RAT entries (emnify documents it so).
    assert fleet.delete(f"{base}/3").status_code == 204
    assert fleet.delete(f"{base}/3").status_code == 404
    entry = fleet.get(base).json()
    assert [(e["operator"]["id"], e["blocklist"]["operator"], len(e["blocklist"]["rat_types"]))
            for e in entry] == [(3, False, 2)]  # fmt: skip
    for item in entry:  # the list's items have the shape of the single-operator answer
        check("GET", BLOCK, 200, item)
    assert fleet.delete(f"{base}/3/rat_type/6").status_code == 204
    assert fleet.delete(f"{base}/3/rat_type/6").status_code == 404
    bad = fleet.post(f"{base}/3/rat_type", {"rat_types": [{"id": 6}, {"id": 99}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rat_types.1.id"
    assert fleet.post(f"{base}/3/rat_type", {"rat_types": []}).status_code == 422
    assert fleet.get(f"{base}/4").json()["blocklist"] == {"operator": False, "rat_types": []}
    assert fleet.get(base, org="globex").status_code == 404
    assert [r["description"] for r in fleet.get("/api/v1/rat_type").json()] == [
        "3G", "2G", "4G", "NB-IoT", "LTE-M", "5G"]  # fmt: skip


def _simulate(fleet: Fleet, network: Network) -> object:
    return in_session(fleet, simulate_usage, org_id=fleet.orgs["acme"], days=2, seed=1,
                      network=network)  # fmt: skip


def test_simulators_refuse_blocked_networks_with_an_event(fleet: Fleet) -> None:
    eid = device(fleet)
    own_profile(fleet, eid)
    _, tp = profile_of(fleet, eid)
    fleet.client.put(f"/api/v1/endpoint/{eid}/operator_blacklist/2", headers=fleet.as_("acme"))
    sim = _simulate(fleet, Network(operator_id=2))
    assert sim.not_attached == [(eid, "operator 2 is on the endpoint's operator blacklist")]
    assert sim.written == 0
    refusal = events(fleet, eid)[-1]
    assert refusal["event_type"]["description"] == "Network attach refused"
    assert refusal["event_source"]["description"] == "Network" and refusal["alert"] is True
    assert _simulate(fleet, Network(operator_id=1)).not_attached == []

    # The tariff profile blocks 4G on Telekom: NB-IoT on Telekom still attaches.
    base = f"/api/v2/tariff_profile/{tp}/operator_blocklist/operator/1"
    fleet.post(f"{base}/rat_type", {"rat_types": [{"id": 6}]})
    assert _simulate(fleet, Network(1, 6)).not_attached[0][1] == (
        "RAT 4G on operator 1 is blocked by tariff profile " + str(tp))
    assert _simulate(fleet, Network(1, 8)).not_attached == []

    # SMS: the device cannot attach to receive, the waiting SMS stays buffered.
    sms = fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "hello"}).json()
    got = in_session(fleet, sms_device.receive, org_id=fleet.orgs["acme"], endpoint_id=eid,
                     network=Network(1, 6))  # fmt: skip
    assert got.refused and got.delivered == []
    after = fleet.get(f"/api/v1/endpoint/{eid}/sms/{sms['id']}").json()
    assert after["status"]["id"] == 3 and after["gsm_map_error"].startswith("absent subscriber")
    sent = in_session(fleet, sms_device.send, org_id=fleet.orgs["acme"], endpoint_id=eid,
                      payload="x", network=Network(2, 8))  # fmt: skip
    assert sent.sms is None and "blacklist" in (sent.refused or "")


def test_service_profile_rat_flags_and_sim_state_are_enforced(fleet: Fleet) -> None:
    eid = device(fleet)
    sp = own_profile(fleet, eid, allowed_nb_iot=False)
    sim = _simulate(fleet, Network(1, 8))
    assert sim.not_attached == [(eid, "its service profile does not allow NB-IoT (allowed_nb_iot)")]
    fleet.patch(f"/api/v1/service_profile/{sp}", {"allowed_nb_iot": True})
    assert _simulate(fleet, Network(1, 8)).not_attached == []
    sim_id = fleet.get(f"/api/v1/endpoint/{eid}").json()["sim"]["id"]
    fleet.patch(f"/api/v1/sim/{sim_id}", {"status": {"id": 2}})
    assert _simulate(fleet, Network()).not_attached == [(eid, "its SIM is Suspended")]
