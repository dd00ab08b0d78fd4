"""Cross-region routes follow changes made after a breakout is Active (issue 11), over HTTP
(uvicorn, real token) and boto3 on the embedded cloud.

- A service profile moves to another breakout region: the breakout sweep adds the routes over
  the peering; moving it back removes exactly them.
- Late peering: a breakout made while the regions were not peered gets its routes once they
  are peered, at the next sweep.
- AWS refusing a route: the breakout stays Active, is warned, and the next sweep routes it.
"""

from __future__ import annotations

import pytest

from linkplane.attachments import crossregion
from linkplane.cloud.aws import AwsCloud
from linkplane.cloud.errors import AccessDenied
from linkplane.cloud.factory import make_cloud
from linkplane.regions import peering
from linkplane.regions.schemas import RegionRead
from linkplane.settings import Settings
from tests.test_breakouts_e2e_support import (
    URL,
    Live,
    move_profile,
    own_organisation,
    regional_profile,
)
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import REGION, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture
from tests.test_regions_crossregion_e2e import WEST, _audit, _tables, _verify
from tests.test_regions_crossregion_e2e import two_regions as two_regions  # the fixture

Regions = tuple[Settings, dict[str, RegionRead], str]


def _active_breakout(live: Live) -> tuple[int, str, str]:
    account, (cidr,) = new_account(), new_cidrs(1)
    bid = live.create(account, [cidr])["id"]
    live.shared(bid)
    live.stack.accept_invitation(account)
    live.recheck(bid)
    live.status(bid, 2)
    attachment = live.stack.attach(account, cidr=cidr)
    live.recheck(bid)
    live.status(bid, 5)
    return bid, cidr, attachment


def _added(before: dict[str, list[object]], after: dict[str, list[object]]) -> dict[str, object]:
    out = {t: sorted(set(after[t]) - set(before.get(t, []))) for t in after}
    return {t: v for t, v in out.items() if v}


def test_moving_a_profile_to_another_region_moves_the_breakouts_routes(
    live: Live, two_regions: Regions
) -> None:
    settings, stored, peering_id = two_regions
    live = own_organisation(live)  # moving its profiles moves only this test's breakouts
    here, west = stored[REGION], stored[WEST]
    clouds = {name: make_cloud(settings, name) for name in (REGION, WEST)}
    profile = regional_profile(live, REGION)
    bid, cidr, attachment = _active_breakout(live)
    before = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}

    move_profile(live, profile, WEST)  # the organisation's devices now break out in the west
    live.stack.sweep()
    after = {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)}
    assert _added(before[WEST], after[WEST]) == {
        west.core_route_table_id: [(cidr, (peering_id,))],
        "vpc": [(cidr, west.tgw_id)],
    }
    assert _added(before[REGION], after[REGION]) == {
        str(here.peering_route_table_id): [(cidr, (attachment,))],
    }
    assert _audit(live, settings) == []  # the row owns the new routes
    shown = live.get(bid)["aws_resources"]["crossregion_routes"]
    assert f"tgw route {cidr} in {WEST} {west.core_route_table_id}" in shown
    # the organisation's devices in the west get addresses there: verify follows the return
    # path of that range over the peering, and judges it in the west, not as a stray route
    r = live.http.post("/api/v1/ip_address_space", json={"ip_address_space": "100.80.77.0/24"})
    assert r.status_code == 201, r.text
    assert _verify(live, settings) == {REGION: [], WEST: []}
    assert live.http.delete(f"/api/v1/ip_address_space/{r.json()['id']}").status_code == 204
    events = live.http.get(f"{URL}/{bid}/event").json()
    moved = [e for e in events if "follow the service profiles" in e["description"]]
    assert len(moved) == 1 and "3 added" in moved[0]["description"], events
    live.stack.sweep()  # nothing more to move: no second event
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert len([e for e in events if "follow the service profiles" in e["description"]]) == 1

    move_profile(live, profile, REGION)  # back home: the routes over the peering go
    live.stack.sweep()
    assert {name: _tables(clouds[name], stored[name]) for name in (REGION, WEST)} == before
    assert _audit(live, settings) == []
    assert live.get(bid)["status"]["id"] == 5
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, 7)
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_a_breakout_made_before_the_peering_gets_its_routes_once_peered(
    live: Live, two_regions: Regions
) -> None:
    settings, stored, old_id = two_regions
    live = own_organisation(live)  # moving its profiles moves only this test's breakouts
    west = stored[WEST]
    factory = live.stack.ctx.sessionmaker
    clouds = {name: make_cloud(settings, name) for name in (REGION, WEST)}
    peering.unpeer(factory=factory, cloud=clouds[REGION], settings=settings, region=REGION,
                   peer_region=WEST, dependents=crossregion.dependents)  # fmt: skip
    profile = regional_profile(live, WEST)
    bid, cidr, attachment = _active_breakout(live)
    live.stack.sweep()  # not peered: nothing to route over
    assert (cidr, (old_id,)) not in _tables(clouds[WEST], west)[west.core_route_table_id]

    # the regions are peered later (a new peering attachment)
    new_id = peering.peer(factory=factory, cloud=clouds[REGION], settings=settings,
                          region=REGION, peer_region=WEST).peering.attachment_id  # fmt: skip
    live.stack.sweep()
    tables = _tables(clouds[WEST], west)
    assert (cidr, (new_id,)) in tables[west.core_route_table_id]
    assert (cidr, west.tgw_id) in tables["vpc"]
    here = _tables(clouds[REGION], stored[REGION])
    assert (cidr, (attachment,)) in here[str(stored[REGION].peering_route_table_id)]
    assert _audit(live, settings) == []
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, 7)
    tables = _tables(clouds[WEST], west)
    assert all(c != cidr for c, _ in tables[west.core_route_table_id] + tables["vpc"])
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204


def test_a_route_aws_refuses_is_tried_again_by_the_next_sweep(
    live: Live, two_regions: Regions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS refuses the new route in the devices' region: the breakout stays Active, warns,
    records nothing it did not make, and the next sweep (once AWS allows it) routes it."""
    settings, stored, peering_id = two_regions
    live = own_organisation(live)  # moving its profiles moves only this test's breakouts
    west = stored[WEST]
    profile = regional_profile(live, REGION)
    bid, cidr, _attachment = _active_breakout(live)
    real = AwsCloud.create_static_route

    def refusing(self: AwsCloud, *, route_table_id: str, cidr: str, attachment_id: str) -> None:
        if route_table_id == west.core_route_table_id:
            raise AccessDenied("injected: not allowed", aws_code="UnauthorizedOperation")
        real(self, route_table_id=route_table_id, cidr=cidr, attachment_id=attachment_id)

    monkeypatch.setattr(AwsCloud, "create_static_route", refusing)
    move_profile(live, profile, WEST)
    live.stack.sweep()  # the sweep itself completes
    data = live.get(bid)
    assert data["status"]["id"] == 5
    recorded = data["aws_resources"].get("crossregion_routes") or []
    assert not any(west.core_route_table_id in r for r in recorded), recorded
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert any("could not follow" in e["description"] and "not allowed" in e["description"]
               and e["severity"] == 1 for e in events), events  # fmt: skip
    live.stack.sweep()  # refused again: no second warning
    events = live.http.get(f"{URL}/{bid}/event").json()
    assert len([e for e in events if "could not follow" in e["description"]]) == 1
    monkeypatch.setattr(AwsCloud, "create_static_route", real)
    live.stack.sweep()
    tables = _tables(make_cloud(settings, WEST), west)
    assert (cidr, (peering_id,)) in tables[west.core_route_table_id]
    assert _audit(live, settings) == []
    assert live.http.delete(f"{URL}/{bid}").status_code == 200
    live.status(bid, 7)
    assert live.http.delete(f"/api/v1/service_profile/{profile}").status_code == 204
