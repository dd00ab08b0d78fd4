"""Tariffs: the organisation's tariff and inclusive volumes, and the tariff side of tariff
profiles (rate zone selections, inclusive volume, coverage), stored and enforced."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from linkplane.tariffs.service import month_end, month_start, today_utc
from tests.test_devices_support import Fleet, any_db_fleet

__all__ = ["any_db_fleet"]


@pytest.fixture
def fleet(any_db_fleet: Fleet) -> Fleet:
    """Every test of this module on SQLite, then on PostgreSQL (when configured)."""
    return any_db_fleet


def _catalogue(fleet: Fleet) -> dict[str, Any]:
    """Tariff name -> tariff read, and rate zone name -> its offers (by volume)."""
    tariffs = {t["name"]: t for t in fleet.get("/api/v1/tariff").json()}
    offers = {}
    for t in tariffs.values():
        for z in t["ratezone"]:
            path = f"/api/v1/tariff/{t['id']}/ratezone/{z['id']}/inclusive_volume"
            offers[z["name"]] = fleet.get(path).json()
    return {"tariffs": tariffs, "offers": offers}


def test_tariff_profiles_store_their_tariff_and_rate_zones(fleet: Fleet) -> None:
    cat = _catalogue(fleet)
    standard = cat["tariffs"]["linkplane Standard"]
    _sp, tp = fleet.profiles()
    got = fleet.get(f"/api/v1/tariff_profile/{tp}").json()
    assert got["organisation_id"] == str(fleet.orgs["acme"])
    assert got["tariff"]["id"] == standard["id"] and got["tariff"]["currency"]["code"] == "EUR"
    assert [(z["name"], z["selected"]) for z in got["tariff"]["ratezone"]] == [
        ("Europe", True), ("North America", True)]  # fmt: skip
    # Counts of the caller's organisation only: other tenants' profiles are not its business.
    assert (got["tariff"]["used_count"], got["tariff"]["assigned_count"]) == ("1", "1")
    # A tariff other than the organisation's is refused naming the field; nothing is made.
    global_ = cat["tariffs"]["linkplane Global"]["id"]
    r = fleet.post("/api/v1/tariff_profile", {"name": "x", "tariff": {"id": global_}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tariff.id"
    assert len(fleet.get("/api/v1/tariff_profile").json()) == 1
    r = fleet.post("/api/v1/tariff_profile", {"name": "eu", "tariff": {"id": standard["id"]}})
    assert r.status_code == 201 and r.json()["tariff"]["id"] == standard["id"]


def test_rate_zone_selection_decides_coverage(fleet: Fleet) -> None:
    _sp, tp = fleet.profiles()
    path = f"/api/v1/tariff_profile/{tp}"
    cover = lambda: {c["country"]["iso_code"]: c["redundancy_count"]  # noqa: E731
                     for c in fleet.get(f"{path}/coverage").json()}  # fmt: skip
    assert cover() == {"de": 3, "fr": 1, "gb": 2, "us": 2}
    zones = {z["name"]: z["id"] for z in fleet.get(path).json()["tariff"]["ratezone"]}
    assert fleet.delete(f"{path}/ratezone_selection/{zones['Europe']}").status_code == 204
    assert cover() == {"us": 2}
    assert fleet.delete(f"{path}/ratezone_selection/{zones['Europe']}").status_code == 404
    assert fleet.put(f"{path}/ratezone_selection/{zones['Europe']}").status_code == 204
    assert fleet.put(f"{path}/ratezone_selection/{zones['Europe']}").status_code == 204
    assert "de" in cover()
    world = _catalogue(fleet)["tariffs"]["linkplane Global"]["ratezone"][0]["id"]
    assert fleet.put(f"{path}/ratezone_selection/{world}").status_code == 404
    assert fleet.put(f"{path}/ratezone_selection/{zones['Europe']}",
                     role="observer").status_code == 403  # fmt: skip
    assert fleet.get(f"{path}/coverage", org="globex").status_code == 404
    assert fleet.delete(f"{path}/ratezone_selection/{zones['Europe']}",
                        org="globex").status_code == 404  # fmt: skip
    assert "de" in cover()


def _assign(fleet: Fleet, offer: int, org: str = "acme", **body: Any) -> Any:
    return fleet.client.put(f"/api/v1/organisation/my/inclusive_volume/{offer}",
                            json=body or None, headers=fleet.as_(org, "admin"))  # fmt: skip


def test_inclusive_volumes_of_the_organisation(fleet: Fleet) -> None:
    offers = _catalogue(fleet)["offers"]
    small, large = (o["id"] for o in offers["Europe"])
    r = _assign(fleet, small)
    assert r.status_code == 201, r.text
    this_month = month_start(today_utc())
    assert r.json()["start_date"].startswith(this_month.isoformat())
    assert "end_date" not in r.json() and r.json()["pooled"] is True
    active = fleet.get("/api/v1/organisation/my/inclusive_volume/active").json()
    assert [(v["volume"], v["rate"], v["tariff"]["ratezone"]["name"]) for v in active] == [
        (1000.0, 5.0, "Europe")]  # fmt: skip
    # The same or a smaller volume cannot run in the same rate zone and month; a larger
    # one from next month is an upgrade that ends the first at this month's end.
    assert _assign(fleet, small).status_code == 409
    next_month = month_end(this_month) + timedelta(days=1)
    r = _assign(fleet, large, start_date=next_month.isoformat(), pooled=False)
    assert r.status_code == 201, r.text
    first = fleet.get("/api/v1/organisation/my/inclusive_volume/active").json()[0]
    assert first["end_date"].startswith(month_end(this_month).isoformat())
    # Dates must be whole months, from this month on; offers of other tariffs are unknown.
    for body, field in [({"start_date": (this_month + timedelta(days=3)).isoformat()},
                         "start_date"),
                        ({"start_date": (this_month - timedelta(days=40)).replace(day=1)
                          .isoformat()}, "start_date"),
                        ({"end_date": this_month.isoformat()}, "end_date")]:  # fmt: skip
        r = _assign(fleet, large, **body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    world = _catalogue(fleet)["offers"]["World"][0]["id"]
    assert _assign(fleet, world).status_code == 404
    assert fleet.get("/api/v1/organisation/my/inclusive_volume/active", org="globex").json() == []
    acme = fleet.orgs["acme"]
    r = fleet.get(f"/api/v1/organisation/{acme}/inclusive_volume/active", org="globex")
    assert r.status_code == 404
    stats = fleet.get("/api/v1/organisation/my/stats").json()
    assert stats["inclusive_volume"] == {"pooled": 5.0, "unpooled": 0.0}


def test_a_tariff_profile_counts_against_one_inclusive_volume(fleet: Fleet) -> None:
    offers = _catalogue(fleet)["offers"]
    volume = _assign(fleet, offers["Europe"][0]["id"]).json()["id"]
    other = _assign(fleet, offers["North America"][0]["id"]).json()["id"]
    _sp, tp = fleet.profiles()
    path = f"/api/v1/tariff_profile/{tp}/inclusive_volume"
    assert fleet.put(f"{path}/{volume}").status_code == 204
    got = fleet.get(f"/api/v1/tariff_profile/{tp}").json()["inclusive_volume"]
    assert got["id"] == volume and got["ratezone"]["name"] == "Europe"
    assert fleet.put(f"{path}/{other}").status_code == 409
    assert fleet.delete(f"{path}/{other}").status_code == 400
    assert fleet.delete(f"{path}/{volume}").status_code == 204
    assert "inclusive_volume" not in fleet.get(f"/api/v1/tariff_profile/{tp}").json()
    assert fleet.put(f"{path}/987654").status_code == 404
    _sp2, their_tp = fleet.profiles("globex")
    theirs = f"/api/v1/tariff_profile/{their_tp}/inclusive_volume/{volume}"
    assert fleet.put(theirs, org="globex").status_code == 404


def test_changing_the_organisations_tariff(fleet: Fleet) -> None:
    cat = _catalogue(fleet)
    _assign(fleet, cat["offers"]["Europe"][0]["id"])
    acme = fleet.orgs["acme"]
    global_ = cat["tariffs"]["linkplane Global"]
    r = fleet.patch(f"/api/v1/organisation/{acme}/tariff", {"id": global_["id"]})
    assert r.status_code == 200 and r.json() == {}
    _sp, tp = fleet.profiles()
    got = fleet.get(f"/api/v1/tariff_profile/{tp}").json()
    assert got["tariff"]["id"] == global_["id"]
    assert [(z["name"], z["selected"]) for z in got["tariff"]["ratezone"]] == [("World", True)]
    assert fleet.get("/api/v1/organisation/my/inclusive_volume/active").json() == []
    # New profiles now get the new tariff; the old one is refused.
    standard = cat["tariffs"]["linkplane Standard"]["id"]
    r = fleet.post("/api/v1/tariff_profile", {"name": "x", "tariff": {"id": standard}})
    assert r.status_code == 422
    for body, status in [({"id": 987654}, 404), ({}, 422), ({"id": 1, "x": 1}, 422)]:
        assert fleet.patch(f"/api/v1/organisation/{acme}/tariff", body).status_code == status
    assert fleet.patch(f"/api/v1/organisation/{acme}/tariff", {"id": standard},
                       org="globex").status_code == 404  # fmt: skip
    assert fleet.patch(f"/api/v1/organisation/{acme}/tariff", {"id": standard},
                       role="observer").status_code == 403  # fmt: skip
    events = fleet.get("/api/v1/event", params={"q": "description:Global"}).json()
    assert events[0]["event_type"]["description"] == "Organisation tariff changed"
    assert fleet.get(f"/api/v1/tariff_profile/{fleet.profiles('globex')[1]}",
                     org="globex").json()["tariff"]["id"] == standard  # fmt: skip


def test_month_helpers() -> None:
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_start(date(2024, 2, 10)) == date(2024, 2, 1)


def test_cli_lists_the_catalogue(fleet: Fleet) -> None:
    from typer.testing import CliRunner

    from linkplane.cli import _register, app

    _register()
    result = CliRunner().invoke(
        app, ["tariff", "list", "--data-dir", str(fleet.ctx.settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "tariff 1 'linkplane Standard' (EUR, status 1)" in result.output
    assert "rate zone 1 'Europe': #1 1000 MB for 5.00, #2 10000 MB for 30.00" in result.output
