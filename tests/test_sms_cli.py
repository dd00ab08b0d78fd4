"""``linkplane sms simulate receive|send`` and ``linkplane usage simulate --operator/--rat``
drive simulated devices on the data directory's database."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from linkplane.cli import _register, app
from linkplane.errors import InvalidInput, NotFound
from tests.sms_support import device, own_profile, types
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]


def _run(fleet: Fleet, *args: str) -> Any:
    _register()
    data_dir = str(fleet.ctx.settings.data_dir)
    return CliRunner().invoke(app, [*args, "--data-dir", data_dir])


def test_sms_simulate_receive_and_send(fleet: Fleet) -> None:
    eid = device(fleet)
    sms_id = fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "open valve"}).json()["id"]
    r = _run(fleet, "sms", "simulate", "receive", "--org", "acme", "--endpoint", str(eid))
    assert r.exit_code == 0, r.output
    assert "SIMULATED device" in r.output and f"delivered SMS {sms_id}: open valve" in r.output
    assert fleet.get(f"/api/v1/endpoint/{eid}/sms/{sms_id}").json()["status"]["id"] == 4
    r = _run(fleet, "sms", "simulate", "receive", "--org", "acme", "--endpoint", str(eid))
    assert "no SMS waiting" in r.output

    r = _run(fleet, "sms", "simulate", "send", "--org", "acme", "--endpoint", str(eid),
             "--payload", "valve open", "--to", "4917000")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "no API callback set" in r.output
    mo = fleet.get(f"/api/v1/endpoint/{eid}/sms").json()[0]
    assert (mo["payload"], mo["dest_address"], mo["sms_type"]["id"]) == ("valve open", "4917000", 2)


def test_sms_simulate_refusals_exit_3_and_leave_their_event(fleet: Fleet) -> None:
    eid = device(fleet)
    fleet.client.put(f"/api/v1/endpoint/{eid}/operator_blacklist/5", headers=fleet.as_("acme"))
    fleet.post(f"/api/v1/endpoint/{eid}/sms", {"payload": "hi"})
    r = _run(fleet, "sms", "simulate", "receive", "--org", "acme", "--endpoint", str(eid),
             "--operator", "5", "--rat", "2")  # fmt: skip
    assert r.exit_code == 3
    assert "Vodafone (United Kingdom) on 2G refused: operator 5 is on the endpoint's" in r.output
    assert types(fleet, eid)[-2:] == ["Network attach refused", "SMS buffered"]
    r = _run(fleet, "sms", "simulate", "send", "--org", "acme", "--endpoint", str(eid),
             "--payload", "x", "--operator", "5")  # fmt: skip
    assert r.exit_code == 3
    bad = _run(fleet, "sms", "simulate", "send", "--org", "acme", "--endpoint", str(eid),
               "--payload", "x", "--rat", "4")  # fmt: skip
    # main() turns these into one line and exit status 2 (CliRunner calls the app directly).
    assert isinstance(bad.exception, InvalidInput) and "unknown RAT type 4" in str(bad.exception)
    missing = _run(fleet, "sms", "simulate", "receive", "--org", "nope", "--endpoint", str(eid))
    assert isinstance(missing.exception, NotFound) and "'nope'" in str(missing.exception)


def test_usage_simulate_reports_devices_it_could_not_attach(fleet: Fleet) -> None:
    blocked, ok = device(fleet), device(fleet)
    own_profile(fleet, blocked, allowed_4g=False)
    r = _run(fleet, "usage", "simulate", "--org", "acme", "--days", "3")
    assert r.exit_code == 0, r.output
    assert "for 1 endpoints of acme" in r.output and "on Telekom (Germany) on 4G" in r.output
    assert f"endpoint {blocked} not attached: its service profile does not allow 4G" in r.output
    assert fleet.get(f"/api/v1/endpoint/{ok}/stats").json()["current_month"]
    assert "current_month" not in fleet.get(f"/api/v1/endpoint/{blocked}/stats").json()
