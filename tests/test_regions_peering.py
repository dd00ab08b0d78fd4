"""``linkplane region peer``/``unpeer`` against the embedded cloud (issue 11, step 3).

Two bootstrapped regions with their own device pools are peered: request in one, accept in
the other, wait until available; a peering table per region associated with the peering and
holding the own pool only; each customers table routes the peer's pool over the peering.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from linkplane.cloud.aws import AwsCloud
from linkplane.cloud.errors import Throttled
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.regions import peering, service
from linkplane.regions.models import Region
from linkplane.regions.schemas import RegionRead
from linkplane.settings import Settings
from tests.cloudkit import adapter
from tests.localcloud import conftest as lc

cloud = lc.cloud
_http_cloud = lc._http_cloud
inproc_only = pytest.mark.parametrize("cloud", ["inproc"], indirect=True)

A, B = "eu-central-1", "eu-west-1"
POOLS = {A: "100.64.0.0/12", B: "100.80.0.0/12"}
NO_SLEEP = {"sleep": lambda _s: None}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", region_device_pools=POOLS)


def _bootstrap(ctx: AppContext, c: AwsCloud) -> dict[str, RegionRead]:
    return {
        name: service.bootstrap(factory=ctx.sessionmaker, cloud=c.for_region(name),
                                settings=ctx.settings, region=name).region
        for name in (A, B)
    }  # fmt: skip


def _peer(ctx: AppContext, c: AwsCloud, a: str = A, b: str = B) -> Any:
    return peering.peer(factory=ctx.sessionmaker, cloud=c, settings=ctx.settings, region=a,
                        peer_region=b, **NO_SLEEP)  # fmt: skip


def _stored(ctx: AppContext) -> dict[str, RegionRead]:
    with transaction(ctx.sessionmaker) as session:
        return {r.name: r for r in service.list_regions(session=session)}


def state(c: AwsCloud) -> dict[str, Any]:
    """Every live TGW attachment, route table, association and route of both regions."""
    out: dict[str, Any] = {}
    for name in (A, B):
        regional = c.for_region(name)
        for tgw in regional.find_transit_gateways(tags={}):
            live = [a for a in regional.list_attachments(tgw_id=tgw.id)
                    if a.state not in {"deleting", "deleted"}]  # fmt: skip
            out[f"{name} attachments"] = sorted((a.id, a.resource_type, a.state) for a in live)
            for table in regional.find_route_tables(tgw_id=tgw.id):
                routes = regional.search_routes(table.id)
                out[f"{name} {table.id}"] = (
                    sorted(x.attachment_id for x in regional.route_table_associations(table.id)),
                    sorted((r.cidr, r.attachment_ids, r.state) for r in routes),
                )
    return out


@inproc_only
def test_peer_builds_both_sides_then_is_up_to_date(cloud: lc.Cloud, ctx: AppContext) -> None:
    c = adapter(cloud)
    regions = _bootstrap(ctx, c)
    result = _peer(ctx, c)
    att = result.peering.attachment_id
    assert (result.peering.region, result.peering.peer_region, result.peering.state) == (
        A, B, "available",
    )  # fmt: skip
    assert f"accepted peering {att} in {B}" in result.changes
    stored = _stored(ctx)
    for here, there in ((A, B), (B, A)):
        regional = c.for_region(here)
        seen = regional.describe_attachment(att)
        assert seen is not None and seen.state == "available"
        assert seen.resource_type == "peering"
        table = stored[here].peering_route_table_id
        assert table is not None and seen.association_route_table_id == table
        # the peering table: the own pool to the own core, nothing else
        assert [(r.cidr, r.attachment_ids) for r in regional.search_routes(table)] == [
            (POOLS[here], (regions[here].core_attachment_id,))
        ]
        # the customers table: own pool to the core, the peer's pool over the peering
        customers = regional.search_routes(regions[here].customers_route_table_id)
        assert sorted((r.cidr, r.attachment_ids) for r in customers) == sorted([
            (POOLS[here], (regions[here].core_attachment_id,)), (POOLS[there], (att,)),
        ])  # fmt: skip
        # the core table has nothing of the peering until a breakout needs it
        assert regional.search_routes(regions[here].core_route_table_id) == []
    before = state(c)
    assert _peer(ctx, c).changes == []
    assert _peer(ctx, c, B, A).changes == []  # either order names the same peering
    assert state(c) == before
    with transaction(ctx.sessionmaker) as session:
        assert peering.peered_pairs(session=session) == {(A, B), (B, A)}


@inproc_only
def test_peer_refuses_what_it_cannot_route(cloud: lc.Cloud, ctx: AppContext) -> None:
    c = adapter(cloud)
    # A bootstrapped before pools were configured: it owns the whole device space
    whole = ctx.settings.model_copy(update={"region_device_pools": {}})
    service.bootstrap(factory=ctx.sessionmaker, cloud=c, settings=whole, region=A)
    with pytest.raises(InvalidInput, match="cannot peer with itself"):
        _peer(ctx, c, A, A)
    with pytest.raises(NotFound, match=f"region {B} is not bootstrapped; run: linkplane "):
        _peer(ctx, c)
    with transaction(ctx.sessionmaker) as session:  # B as an older linkplane stored it
        a = session.scalars(select(Region).where(Region.name == A)).one()
        session.add(Region(
            name=B, account_id=a.account_id, tgw_id="tgw-b", tgw_arn="arn-b",
            core_route_table_id="x", customers_route_table_id="y", core_vpc_id="v",
            core_vpc_cidr=a.core_vpc_cidr, core_attachment_id="z", subnet_ids=[],
            device_cidr=POOLS[B],
        ))  # fmt: skip
    before = state(c)
    with pytest.raises(InvalidInput) as exc:
        _peer(ctx, c, B, A)
    assert "share device addresses (100.80.0.0/12 and 100.64.0.0/10)" in exc.value.message
    assert "LINKPLANE_REGION_DEVICE_POOLS" in exc.value.message
    assert state(c) == before


@inproc_only
@pytest.mark.parametrize("fail_at", ["associate_route_table", "create_static_route"])
def test_failure_mid_way_undoes_what_the_run_created(
    cloud: lc.Cloud, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    c = adapter(cloud)
    _bootstrap(ctx, c)
    before = state(c)
    real = getattr(AwsCloud, fail_at)
    calls = {"n": 0}

    def failing(self: AwsCloud, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # the second side's association / the second route
            raise Throttled("injected fault", aws_code="RequestLimitExceeded")
        return real(self, **kwargs)

    monkeypatch.setattr(AwsCloud, fail_at, failing)
    with pytest.raises(Throttled, match="injected fault"):
        _peer(ctx, c)
    monkeypatch.setattr(AwsCloud, fail_at, real)
    assert state(c) == before
    with transaction(ctx.sessionmaker) as session:
        assert peering.list_peerings(session=session) == []
    assert _peer(ctx, c).peering.state == "available"  # and a new run succeeds


@inproc_only
def test_unpeer_refuses_while_breakouts_depend_then_removes_everything(
    cloud: lc.Cloud, ctx: AppContext
) -> None:
    c = adapter(cloud)
    _bootstrap(ctx, c)
    bootstrapped = state(c)
    att = _peer(ctx, c).peering.attachment_id
    peered = state(c)

    def unpeer(users: list[str]) -> list[str]:
        return peering.unpeer(factory=ctx.sessionmaker, cloud=c, settings=ctx.settings,
                              region=B, peer_region=A, dependents=lambda _s, _a, _b: users,
                              **NO_SLEEP)  # fmt: skip

    with pytest.raises(Conflict) as exc:
        unpeer(["breakout 7 ('backend')"])
    assert "carries 1 breakout(s): breakout 7 ('backend')" in exc.value.message
    assert state(c) == peered
    changes = unpeer([])
    assert f"deleted peering {att}" in changes
    after = state(c)
    # the peering tables stay, unassociated, with only their own pool (for the next
    # peering); nothing else is left
    for name in (A, B):
        stored = _stored(ctx)[name]
        associations, routes = after.pop(f"{name} {stored.peering_route_table_id}")
        assert associations == []
        assert [(r[0], r[1]) for r in routes] == [(POOLS[name], (stored.core_attachment_id,))]
    assert after == bootstrapped
    with transaction(ctx.sessionmaker) as session:
        assert peering.list_peerings(session=session) == []


def test_cli_peer_list_and_unpeer(endpoint_env: dict[str, str], tmp_path: Path) -> None:
    from linkplane.regions.cli import app

    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    for name in (A, B):
        r = runner.invoke(app, ["bootstrap", "--region", name, *data], env=endpoint_env)
        assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["peer", "--region", A, "--peer-region", B, *data], env=endpoint_env)
    assert r.exit_code == 0, r.output
    assert f"peered {A} <-> {B}:" in r.output
    assert "get their routes at the next breakout sweep" in r.output
    r = runner.invoke(app, ["peer", "--region", B, "--peer-region", A, *data], env=endpoint_env)
    assert f"peering {B} <-> {A} is up to date (no changes)" in r.output
    r = runner.invoke(app, ["list", *data], env=endpoint_env)
    assert f"device pool:           {POOLS[A]}" in r.output
    assert f"peering {A} <-> {B}: tgw-attach-" in r.output and "available" in r.output
    listed = json.loads(runner.invoke(app, ["list", "--json", *data], env=endpoint_env).stdout)
    assert [(x["name"], [p["peer_region"] for p in x["peerings"]]) for x in listed] == [
        (A, [B]), (B, [A]),
    ]  # fmt: skip
    r = runner.invoke(app, ["unpeer", "--region", A, "--peer-region", B, *data],
                      env=endpoint_env)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "deleted peering tgw-attach-" in r.output


@pytest.fixture
def endpoint_env(_http_cloud: str) -> Any:
    # No reset of the embedded cloud here: it is shared by the test process, and the
    # breakout stack other modules use keeps its transit gateway in it.
    yield {
        "LINKPLANE_AWS_ENDPOINT_URL": _http_cloud, "LINKPLANE_CLOUD": "embedded",
        "LINKPLANE_REGION_DEVICE_POOLS": '{"eu-central-1": "100.64.0.0/12", '
        '"eu-west-1": "100.80.0.0/12"}',
    }  # fmt: skip
