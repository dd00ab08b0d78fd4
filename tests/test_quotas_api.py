"""Endpoint data and SMS quotas: emnify's routes and shapes, and their enforcement on
usage (import and simulation): a device whose data quota is spent is blocked until raised."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from linkplane.cli import _register, app
from linkplane.db import utcnow
from linkplane.usage import service as usage
from linkplane.usage.simulate import simulate_usage
from tests.emnify_spec import check
from tests.sms_support import device, in_session, own_profile, types
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

DATA = "/api/v1/endpoint/{endpoint_id}/quota/data"
MB = 1_000_000


def quota(volume: float, *, expiry: datetime | None = None, **extra: Any) -> dict[str, Any]:
    when = expiry or utcnow() + timedelta(days=30)
    return {"status": {"id": 1}, "volume": volume, "expiry_date": when.isoformat(),
            "action_on_exhaustion": {"id": 1}, **extra}  # fmt: skip


def _use(fleet: Fleet, eid: int, nbytes: int, now: datetime | None = None,
         day: Any = None) -> usage.Recorded:  # fmt: skip
    row = usage.UsageIn(endpoint_id=eid, day=day or usage.today_utc(), bytes_tx=nbytes // 4,
                        bytes_rx=nbytes - nbytes // 4)  # fmt: skip
    result: usage.Recorded = in_session(fleet, usage.store_usage, rows=[row], now=now)
    return result


def _month_bytes(fleet: Fleet, eid: int) -> int:
    stats = fleet.get(f"/api/v1/endpoint/{eid}/stats").json()
    return round(float(stats.get("current_month", {}).get("data", {}).get("volume", 0)) * MB)


def _connectivity(fleet: Fleet, eid: int) -> str:
    status: str = fleet.get(f"/api/v1/endpoint/{eid}/connectivity").json()["status"]["description"]
    return status


def test_data_quota_routes_conform(fleet: Fleet) -> None:
    eid = device(fleet)
    url = f"/api/v1/endpoint/{eid}/quota/data"
    assert fleet.get(url).status_code == 404
    r = fleet.post(url, quota(1.5, threshold_percentage=20, auto_refill=1))
    assert r.status_code == 201, r.text
    check("POST", DATA, 201, r.json())
    got = fleet.get(url).json()
    check("GET", DATA, 200, got)
    assert got["status"] == {"id": "1", "description": "ACTIVE"}
    assert got["volume"] == 1.5 and got["auto_refill"] == 1 and got["threshold_volume"] == 0.3
    # The reference types ids as strings, emnify clients send numbers: both are taken.
    assert fleet.post(url, {**quota(2), "status": {"id": "1"}}).status_code == 201
    # emnify's own date format, without a zone, is UTC.
    assert fleet.post(url, {**quota(2), "expiry_date": "2099-12-31 23:59:59"}).status_code == 201
    assert fleet.get(url).json()["expiry_date"] == "2099-12-31T23:59:59Z"
    assert fleet.get(url, org="globex").status_code == 404
    assert fleet.post(url, quota(1), role="observer").status_code == 403
    assert fleet.delete(url).status_code == 204
    assert fleet.delete(url).status_code == 404


def test_bad_quotas_are_refused(fleet: Fleet) -> None:
    eid = device(fleet)
    url = f"/api/v1/endpoint/{eid}/quota/data"
    past = utcnow() - timedelta(hours=1)
    cases = [
        (quota(1, expiry=past), "expiry_date"),
        ({**quota(1), "action_on_exhaustion": {"id": 2, "peak_throughput": 64000}},
         "action_on_exhaustion.id"),
        ({**quota(1), "status": {"id": 9}}, "status.id"),
        ({**quota(1), "volume": -1}, "volume"),
        ({**quota(1), "colour": "red"}, "colour"),
        ({"volume": 1}, "status"),
    ]  # fmt: skip
    for body, field in cases:
        r = fleet.post(url, body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    r = fleet.post(f"/api/v1/endpoint/{eid}/quota/sms", quota(1.5))
    assert r.status_code == 422 and "whole SMS" in r.json()["message"]
    assert fleet.get(url).status_code == 404  # nothing was stored


def test_spent_data_quota_blocks_the_device_until_raised(fleet: Fleet) -> None:
    eid = device(fleet)
    own_profile(fleet, eid, apply_data_quota=True)
    # No quota at all and the profile applies quotas: blocked, as emnify documents.
    refused = _use(fleet, eid, 1 * MB).refused
    assert [(r.refused_bytes, r.reason) for r in refused] == [
        (MB, "no data quota is set and its service profile applies data quotas")]  # fmt: skip
    assert _month_bytes(fleet, eid) == 0 and _connectivity(fleet, eid) == "BLOCKED"

    fleet.post(f"/api/v1/endpoint/{eid}/quota/data", quota(2, threshold_percentage=30))
    assert _connectivity(fleet, eid) == "ONLINE"
    assert _use(fleet, eid, 1_500_000).refused == []
    result = _use(fleet, eid, 1 * MB)  # only 0.5 MB left
    assert [(r.refused_bytes, r.reason) for r in result.refused] == [
        (500_000, "its data quota is used up")]  # fmt: skip
    assert _month_bytes(fleet, eid) == 2 * MB
    got = fleet.get(f"/api/v1/endpoint/{eid}/quota/data").json()
    assert got["status"] == {"id": "2", "description": "EXHAUSTED"} and got["volume"] == 0
    seen = types(fleet, eid)
    assert seen.count("Usage refused") == 2 and "Quota threshold reached" in seen
    assert seen.index("Quota threshold reached") < seen.index("Quota used up")
    assert _connectivity(fleet, eid) == "BLOCKED"
    assert _use(fleet, eid, 10).refused[0].reason == "its data quota is EXHAUSTED"

    fleet.post(f"/api/v1/endpoint/{eid}/quota/data", quota(5))  # raised: service again
    assert _connectivity(fleet, eid) == "ONLINE"
    assert _use(fleet, eid, 1 * MB).refused == []
    assert _month_bytes(fleet, eid) == 3 * MB


def test_quota_expires_and_auto_refill_restores_it_daily(fleet: Fleet) -> None:
    eid = device(fleet)
    own_profile(fleet, eid, apply_data_quota=True)
    url = f"/api/v1/endpoint/{eid}/quota/data"
    fleet.post(url, quota(1, auto_refill=1, expiry=utcnow() + timedelta(days=3)))
    _use(fleet, eid, MB)
    assert fleet.get(url).json()["status"]["id"] == "2"
    tomorrow = utcnow() + timedelta(days=1)
    assert _use(fleet, eid, MB, now=tomorrow).refused == []  # refilled with the last volume
    later = utcnow() + timedelta(days=4)
    assert _use(fleet, eid, 1, now=later).refused[0].reason == "its data quota is EXPIRED"
    assert "Quota expired" in types(fleet, eid)


def test_usage_import_command_respects_quotas(fleet: Fleet, tmp_path: Path) -> None:
    eid = device(fleet)
    own_profile(fleet, eid, apply_data_quota=True)
    fleet.post(f"/api/v1/endpoint/{eid}/quota/data", quota(1))
    day = usage.today_utc().isoformat()
    csv = tmp_path / "cdr.csv"
    csv.write_text(f"endpoint_id,date,bytes_tx,bytes_rx\n{eid},{day},1000000,500000\n")
    _register()
    run = CliRunner().invoke(app, ["usage", "import", str(csv), "--data-dir",
                                   str(fleet.ctx.settings.data_dir)])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert f"refused 500000 bytes of endpoint {eid}: its data quota is used up" in run.output
    assert _month_bytes(fleet, eid) == MB


def test_simulation_respects_quotas_and_rerunning_charges_nothing(fleet: Fleet) -> None:
    eid = device(fleet)
    own_profile(fleet, eid, apply_data_quota=True)
    fleet.post(f"/api/v1/endpoint/{eid}/quota/data", quota(5))
    org = fleet.orgs["acme"]
    first = in_session(fleet, simulate_usage, org_id=org, days=5, seed=3)
    assert [r.endpoint_id for r in first.refused] == [eid]  # ~4 MB a day: 5 MB do not last
    assert _month_bytes(fleet, eid) <= 5 * MB
    left = fleet.get(f"/api/v1/endpoint/{eid}/quota/data").json()["volume"]
    again = in_session(fleet, simulate_usage, org_id=org, days=5, seed=3)
    assert fleet.get(f"/api/v1/endpoint/{eid}/quota/data").json()["volume"] == left
    assert again.written == first.written


def test_profile_wide_quota_removal(fleet: Fleet) -> None:
    a, b = device(fleet), device(fleet)
    sp = own_profile(fleet, a)
    fleet.patch(f"/api/v1/endpoint/{b}", {"service_profile": {"id": sp}})
    for eid in (a, b):
        assert fleet.post(f"/api/v1/endpoint/{eid}/quota/sms",
                          quota(10, threshold_percentage=10)).status_code == 201  # fmt: skip
    assert fleet.delete(f"/api/v1/service_profile/{sp}/quota/bogus").status_code == 404
    assert fleet.delete(f"/api/v1/service_profile/{sp}/quota/sms", org="globex").status_code == 404
    assert fleet.delete(f"/api/v1/service_profile/{sp}/quota/sms").status_code == 204
    assert [fleet.get(f"/api/v1/endpoint/{e}/quota/sms").status_code for e in (a, b)] == [404, 404]
