"""Per-region device pools (issue 11): settings, bootstrap, and where endpoints get addresses.

A region's pool is a part of the device space; a service profile's ``breakout_region`` makes
its endpoints take addresses from that region's pool, so routing can tell the region.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from linkplane.addressing import service as addressing
from linkplane.attachments.regions import RegionInfo
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.errors import InvalidInput
from linkplane.regions import service
from linkplane.settings import Settings
from tests.cloudkit import adapter
from tests.localcloud import conftest as lc
from tests.region_support import store_region
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]
cloud = lc.cloud
_http_cloud = lc._http_cloud

CENTRAL, WEST = "eu-central-1", "eu-west-1"
POOLS = {CENTRAL: "100.64.0.0/12", WEST: "100.80.0.0/12"}


def _info(name: str, n: int) -> RegionInfo:
    return RegionInfo(
        name=name, tgw_id=f"tgw-{n:017d}",
        tgw_arn=f"arn:aws:ec2:{name}:123456789012:transit-gateway/tgw-{n:017d}",
        core_route_table_id=f"tgw-rtb-core{n}", customers_route_table_id=f"tgw-rtb-cust{n}",
        core_attachment_id=f"tgw-attach-core{n}", core_vpc_cidr="10.255.0.0/16",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("pools", "says"),
    [
        ({CENTRAL: "100.64.0.0/12", WEST: "100.72.0.0/13"}, "overlap"),
        ({CENTRAL: "10.0.0.0/16"}, "not inside the device address space"),
        ({"mars-north-1": "100.64.0.0/12"}, "unknown region 'mars-north-1'"),
        ({CENTRAL: "100.64.0.1/12"}, "is not a valid CIDR"),
    ],
)
def test_bad_pools_are_refused_with_what_is_wrong(pools: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(region_device_pools=pools)
    assert says in str(exc.value)


def test_a_region_without_a_pool_uses_the_whole_device_space() -> None:
    settings = Settings(region_device_pools={CENTRAL: POOLS[CENTRAL]})
    assert settings.device_pool(CENTRAL) == "100.64.0.0/12"
    assert settings.device_pool(WEST) == settings.device_cidr == "100.64.0.0/10"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", region_device_pools=POOLS)


@pytest.mark.parametrize("cloud", ["inproc"], indirect=True)
def test_bootstrap_records_the_regions_pool_and_routes_only_it(
    cloud: lc.Cloud, ctx: AppContext
) -> None:
    c = adapter(cloud)
    first = service.bootstrap(factory=ctx.sessionmaker, cloud=c, settings=ctx.settings,
                              region=CENTRAL)  # fmt: skip
    assert first.region.device_cidr == POOLS[CENTRAL]
    routes = c.search_routes(first.region.customers_route_table_id)
    assert [(r.cidr, r.attachment_ids) for r in routes] == [
        (POOLS[CENTRAL], (first.region.core_attachment_id,))
    ]
    # the pool changed in settings: the next bootstrap routes the new pool, not the old
    moved = ctx.settings.model_copy(update={"region_device_pools": {CENTRAL: "100.96.0.0/12"}})
    again = service.bootstrap(factory=ctx.sessionmaker, cloud=c, settings=moved, region=CENTRAL)
    assert again.region.device_cidr == "100.96.0.0/12"
    assert [r.cidr for r in c.search_routes(first.region.customers_route_table_id)] == [
        "100.96.0.0/12"
    ]
    assert any("removed route 100.64.0.0/12" in change for change in again.changes)


@pytest.mark.parametrize("cloud", ["inproc"], indirect=True)
def test_a_second_region_overlapping_a_bootstrapped_pool_is_refused(
    cloud: lc.Cloud, ctx: AppContext
) -> None:
    one_pool = ctx.settings.model_copy(update={"region_device_pools": {}})
    service.bootstrap(factory=ctx.sessionmaker, cloud=adapter(cloud), settings=one_pool,
                      region=CENTRAL)  # fmt: skip
    with pytest.raises(InvalidInput) as exc:
        service.bootstrap(factory=ctx.sessionmaker, cloud=adapter(cloud).for_region(WEST),
                          settings=one_pool, region=WEST)  # fmt: skip
    assert "overlaps the pool of bootstrapped region eu-central-1" in exc.value.message
    assert "LINKPLANE_REGION_DEVICE_POOLS" in exc.value.message
    assert adapter(cloud).for_region(WEST).find_transit_gateways(tags={}) == []


# --- service profiles and endpoints ------------------------------------------------------------


@pytest.fixture
def regions(fleet: Fleet) -> dict[str, int]:
    """Both regions stored with their pools, and a space for acme in the west pool (the
    seeded one, 100.64.0.0/24, is in the central pool). Region name -> region id."""
    for n, name in enumerate((CENTRAL, WEST), start=1):
        store_region(fleet.ctx.sessionmaker, _info(name, n), device_cidr=POOLS[name])
    with transaction(fleet.ctx.sessionmaker) as session:
        addressing.create_space(session=session, device_cidr="100.64.0.0/10",
                                cidr="100.80.0.0/24", org_id=fleet.orgs["acme"])  # fmt: skip
    regions = fleet.get("/api/v1/service_profile").json()
    assert "breakout_region" not in regions[0]  # none chosen: the key is left out
    return {CENTRAL: 1, WEST: 2}


def _profile(fleet: Fleet, region: dict[str, Any] | None, org: str = "acme") -> int:
    r = fleet.post("/api/v1/service_profile", {"name": "p", "breakout_region": region}, org)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _endpoint(fleet: Fleet, profile: int, **extra: Any) -> Any:
    _, tp = fleet.profiles()
    body = {"name": "dev", "status": {"id": 0}, "service_profile": {"id": profile},
            "tariff_profile": {"id": tp}, **extra}  # fmt: skip
    return fleet.post("/api/v1/endpoint", body)


def test_profile_names_a_bootstrapped_region_by_id_or_name(
    fleet: Fleet, regions: dict[str, int]
) -> None:
    by_name = _profile(fleet, {"name": WEST})
    by_id = _profile(fleet, {"id": regions[CENTRAL]})
    read = fleet.get(f"/api/v1/service_profile/{by_name}").json()
    assert read["breakout_region"] == {"id": regions[WEST], "name": WEST}
    read = fleet.get(f"/api/v1/service_profile/{by_id}").json()
    assert read["breakout_region"] == {"id": regions[CENTRAL], "name": CENTRAL}
    for bad in ({"id": 99}, {"name": "us-east-1"}):
        r = fleet.post("/api/v1/service_profile", {"name": "x", "breakout_region": bad})
        assert r.status_code == 422, r.text
        error = r.json()["errors"][0]
        assert error["field"] == "breakout_region"
        assert "not a bootstrapped region; bootstrapped: eu-central-1 (id 1)" in error["message"]
    # null clears the choice
    r = fleet.patch(f"/api/v1/service_profile/{by_id}", {"breakout_region": None})
    assert r.status_code == 204, r.text
    assert "breakout_region" not in fleet.get(f"/api/v1/service_profile/{by_id}").json()


def test_endpoints_take_addresses_from_their_profiles_region_pool(
    fleet: Fleet, regions: dict[str, int]
) -> None:
    west, central = _profile(fleet, {"name": WEST}), _profile(fleet, {"name": CENTRAL})
    r = _endpoint(fleet, west)
    assert r.status_code == 201, r.text
    assert fleet.get(f"/api/v1/endpoint/{r.json()['id']}").json()["ip_address"] == "100.80.0.1"
    r = _endpoint(fleet, central)
    assert fleet.get(f"/api/v1/endpoint/{r.json()['id']}").json()["ip_address"] == "100.64.0.1"
    # a space outside the profile's pool is refused, saying which pool
    spaces = {s["ip_address_space"]: s["id"] for s in fleet.get("/api/v1/ip_address_space").json()}
    r = _endpoint(fleet, west, ip_address_space={"id": spaces["100.64.0.0/24"]})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "ip_address_space"
    assert "not in the device pool 100.80.0.0/12 of eu-west-1" in r.json()["message"]
    # no space of the organisation in the pool: a clear 4xx, not a 500
    bare = _profile(fleet, {"name": WEST}, org="globex")
    _, tp = fleet.profiles("globex")
    body = {"name": "d", "status": {"id": 0}, "service_profile": {"id": bare},
            "tariff_profile": {"id": tp}}  # fmt: skip
    r = fleet.post("/api/v1/endpoint", body, "globex")
    assert r.status_code == 422, r.text
    assert "no IP address space in the device pool 100.80.0.0/12 of eu-west-1" in r.text


def test_moving_an_endpoint_to_a_profile_of_another_region_needs_a_space_there(
    fleet: Fleet, regions: dict[str, int]
) -> None:
    west, central = _profile(fleet, {"name": WEST}), _profile(fleet, {"name": CENTRAL})
    endpoint = _endpoint(fleet, west).json()["id"]
    path = f"/api/v1/endpoint/{endpoint}"
    r = fleet.patch(path, {"service_profile": {"id": central}})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "service_profile"
    assert fleet.get(path).json()["service_profile"]["id"] == west  # nothing changed
    spaces = {s["ip_address_space"]: s["id"] for s in fleet.get("/api/v1/ip_address_space").json()}
    r = fleet.patch(path, {"service_profile": {"id": central},
                           "ip_address_space": {"id": spaces["100.64.0.0/24"]}})  # fmt: skip
    assert r.status_code == 204, r.text
    assert fleet.get(path).json()["ip_address"].startswith("100.64.0.")


def test_a_profiles_region_changes_only_if_no_endpoint_would_move(
    fleet: Fleet, regions: dict[str, int]
) -> None:
    west = _profile(fleet, {"name": WEST})
    assert _endpoint(fleet, west).status_code == 201
    r = fleet.patch(f"/api/v1/service_profile/{west}", {"breakout_region": {"name": CENTRAL}})
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "breakout_region"
    assert "1 endpoint(s)" in r.json()["message"] and "does not move addresses" in r.text
    read = fleet.get(f"/api/v1/service_profile/{west}").json()
    assert read["breakout_region"]["name"] == WEST
    # an unused profile changes freely; and clearing never moves anything
    empty = _profile(fleet, {"name": WEST})
    assert fleet.patch(f"/api/v1/service_profile/{empty}",
                       {"breakout_region": {"name": CENTRAL}}).status_code == 204  # fmt: skip
    assert fleet.patch(f"/api/v1/service_profile/{west}",
                       {"breakout_region": None}).status_code == 204  # fmt: skip


def test_bulk_create_and_update_keep_endpoints_in_their_profiles_pool(
    fleet: Fleet, regions: dict[str, int]
) -> None:
    west, central = _profile(fleet, {"name": WEST}), _profile(fleet, {"name": CENTRAL})
    _, tp = fleet.profiles()
    body = {"service_profile": {"id": west}, "tariff_profile": {"id": tp}, "status": {"id": 0},
            "endpoints": [{"name": "a"}, {"name": "b"}]}  # fmt: skip
    r = fleet.post("/api/v2/endpoint/multi", body)
    assert r.status_code in (200, 201), r.text
    ids = [e["id"] for e in r.json()]
    addresses = [fleet.get(f"/api/v1/endpoint/{i}").json()["ip_address"] for i in ids]
    assert addresses == ["100.80.0.1", "100.80.0.2"]
    # a bulk move to the central profile without a space there: refused for that item only
    r = fleet.client.request("PATCH", "/api/v2/endpoint/multi", headers=fleet.as_("acme"),
                             json=[{"id": ids[0], "name": "a2"},
                                   {"id": ids[1], "service_profile": {"id": central}}])
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["[1].service_profile"]
    assert fleet.get(f"/api/v1/endpoint/{ids[0]}").json()["name"] == "a"  # all or nothing


def test_the_cli_says_which_pools_overlap_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from linkplane.cli import main

    monkeypatch.setenv("LINKPLANE_REGION_DEVICE_POOLS",
                       '{"eu-central-1": "100.64.0.0/12", "eu-west-1": "100.72.0.0/13"}')
    monkeypatch.setattr("sys.argv", ["linkplane", "region", "list", "--data-dir", str(tmp_path)])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error (settings): device pools of eu-central-1 (100.64.0.0/12) and "
                          "eu-west-1 (100.72.0.0/13) overlap")
    assert "Traceback" not in err
