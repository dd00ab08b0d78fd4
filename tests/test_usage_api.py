"""emnify's stats routes over imported usage: shapes, MB units, date ranges, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linkplane.db import transaction
from linkplane.errors import InvalidInput
from linkplane.usage import service
from linkplane.usage.service import UsageIn
from tests.test_devices_support import Fleet, any_db_fleet, fleet

__all__ = ["any_db_fleet", "fleet"]


def _endpoint_with_usage(fleet: Fleet) -> int:
    ep = fleet.new_endpoint().json()["id"]
    today = service.today_utc()
    rows = [
        UsageIn(endpoint_id=ep, day=today, bytes_tx=1_500_000, bytes_rx=2_000_000),
        UsageIn(endpoint_id=ep, day=service.previous_month_start(today), bytes_tx=1, bytes_rx=0),
    ]
    with transaction(fleet.ctx.sessionmaker) as session:
        service.record_usage(session=session, rows=rows)
    return int(ep)


def test_endpoint_stats_in_emnifys_shape(fleet: Fleet) -> None:
    ep = _endpoint_with_usage(fleet)
    body = fleet.get(f"/api/v1/endpoint/{ep}/stats").json()
    data = body["current_month"]["data"]
    assert (data["volume"], data["volume_tx"], data["volume_rx"]) == (3.5, 1.5, 2.0)
    assert data["traffic_type"] == {"id": 5, "description": "Data", "unit": "MB"}
    assert body["last_month"]["data"]["volume_tx"] == 0.000001
    quiet = fleet.new_endpoint().json()["id"]
    assert fleet.get(f"/api/v1/endpoint/{quiet}/stats").json() == {}  # no traffic: no months


def test_endpoint_daily_stats_default_to_the_current_month(fleet: Fleet) -> None:
    ep = _endpoint_with_usage(fleet)
    today = service.today_utc()
    days = fleet.get(f"/api/v1/endpoint/{ep}/stats/daily").json()
    assert [d["date"] for d in days] == [today.isoformat()]
    assert days[0]["data"]["volume"] == 3.5
    last = service.previous_month_start(today)
    ranged = fleet.get(f"/api/v1/endpoint/{ep}/stats/daily",
                       params={"start_date": last.isoformat()}).json()  # fmt: skip
    assert [d["date"] for d in ranged] == [last.isoformat(), today.isoformat()]
    bad = fleet.get(f"/api/v1/endpoint/{ep}/stats/daily", params={"start_date": "2026-13-01"})
    assert bad.status_code == 422 and "start_date" in bad.text
    after = (today + timedelta(days=1)).isoformat()
    reversed_ = fleet.get(f"/api/v1/endpoint/{ep}/stats/daily",
                          params={"start_date": after, "end_date": today.isoformat()})  # fmt: skip
    assert reversed_.status_code == 422 and "start_date" in reversed_.text


def test_organisation_stats_for_my_and_own_id_only(fleet: Fleet) -> None:
    _endpoint_with_usage(fleet)
    acme = fleet.orgs["acme"]
    body = fleet.get("/api/v1/organisation/my/stats").json()
    current = body["current_month"]["data"]
    assert current["volume"] == 3.5
    assert current["month"] == service.today_utc().strftime("%Y-%m-01")  # emnify's format
    assert body["sim"] == {"issued": 0, "factory_mode": 0, "active": 0, "suspended": 0,
                           "total": 0}
    assert (body["service_profiles"], body["tariff_profiles"], body["users"]) == (1, 1, 0)
    assert body["inclusive_volume"] == {"pooled": 0.0, "unpooled": 0.0}
    assert fleet.get(f"/api/v1/organisation/{acme}/stats").json() == body
    assert fleet.get("/api/v1/organisation/my/stats", org="globex").json()["current_month"][
        "data"]["volume"] == 0  # fmt: skip
    assert fleet.get(f"/api/v1/organisation/{acme}/stats", org="globex").status_code == 404
    for bad in ("abc", "0", "\u00b2"):
        assert fleet.get(f"/api/v1/organisation/{bad}/stats").status_code == 422
    daily = fleet.get("/api/v1/organisation/my/stats/daily").json()
    assert daily[-1]["date"] == service.today_utc().isoformat()
    assert daily[-1]["data"]["volume"] == "3.500000"


def test_other_tenants_endpoint_stats_are_404(fleet: Fleet) -> None:
    ep = _endpoint_with_usage(fleet)
    for path in (f"/api/v1/endpoint/{ep}/stats", f"/api/v1/endpoint/{ep}/stats/daily"):
        assert fleet.get(path, org="globex").status_code == 404
        assert fleet.get(path, role="observer").status_code == 200


def test_hourly_stats_come_from_records_with_an_hour(any_db_fleet: Fleet) -> None:
    """On both databases: the hourly rows are upserted like the daily ones."""
    from datetime import UTC, datetime

    fleet = any_db_fleet

    from linkplane.usage import importer

    ep = fleet.new_endpoint().json()["id"]
    now = datetime.now(UTC)
    today = now.date().isoformat()
    csv = "\n".join([
        "endpoint_id,date,hour,bytes_tx,bytes_rx",
        f"{ep},{today},{now.hour},1000000,3000000",
        f"{ep},{today},{now.hour},500000,0",  # accumulates
        f"{ep},{today},,2000000,2000000",  # no hour: in the day, not in any hour
    ]) + "\n"  # fmt: skip
    with transaction(fleet.ctx.sessionmaker) as session:
        service.record_usage(session=session, rows=importer.parse(csv))
    body = fleet.get("/api/v1/organisation/my/stats/hourly").json()
    label = f"{now.hour:02d}:00"
    assert body == {"data": {"rx": [[label, "3.000000"]], "tx": [[label, "1.500000"]]}}
    assert fleet.get("/api/v1/organisation/my/stats/daily").json()[-1]["data"]["volume"] == (
        "8.500000"
    )
    # An explicit range; an end needs a start; the hour must be 0-23 and not in the future.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    r = fleet.get("/api/v1/organisation/my/stats/hourly",
                  params={"start_date": midnight.date().isoformat()})  # fmt: skip
    assert r.json()["data"]["rx"] == [[label, "3.000000"]]
    r = fleet.get("/api/v1/organisation/my/stats/hourly", params={"end_date": today})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end_date"
    bad = f"endpoint_id,date,hour,bytes_tx,bytes_rx\n{ep},{today},24,1,1\n"
    with pytest.raises(InvalidInput, match="hour 24 must be 0 to 23"), \
            transaction(fleet.ctx.sessionmaker) as session:  # fmt: skip
        service.record_usage(session=session, rows=importer.parse(bad))
    assert fleet.get("/api/v1/organisation/my/stats/hourly", org="globex").json() == {
        "data": {"rx": [], "tx": []}}  # fmt: skip


def test_the_older_daily_stats_route_is_the_organisations_month(fleet: Fleet) -> None:
    _endpoint_with_usage(fleet)
    days = fleet.get("/api/v1/stats/daily").json()
    assert days == fleet.get("/api/v1/organisation/my/stats/daily").json()
    assert days[-1]["data"]["volume"] == "3.500000"
    assert fleet.get("/api/v1/stats/daily", org="globex").json() == []
