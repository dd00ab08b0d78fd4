"""Regional bootstrap against the embedded cloud: create, adopt, idempotence, compensation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from linkplane.cloud.aws import AwsCloud
from linkplane.cloud.errors import Throttled
from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.installation.service import installation_id
from linkplane.regions import service
from linkplane.regions.build import attachment_subnet_cidrs
from linkplane.regions.models import Region
from linkplane.regions.schemas import BootstrapResult
from linkplane.settings import Settings
from tests.cloudkit import adapter, snapshot
from tests.localcloud import conftest as lc

cloud = lc.cloud
_http_cloud = lc._http_cloud
#: Tests beyond the core ones run in-process only: the HTTP mode adds time, not coverage.
inproc_only = pytest.mark.parametrize("cloud", ["inproc"], indirect=True)


def _installation(ctx: AppContext) -> str:
    with ctx.sessionmaker() as session:
        return installation_id(session, ctx.settings)


def run(ctx: AppContext, c: AwsCloud, **kwargs: Any) -> BootstrapResult:
    return service.bootstrap(
        factory=ctx.sessionmaker, cloud=c, settings=ctx.settings, region=lc.REGION, **kwargs
    )


def test_bootstrap_builds_the_provider_side(cloud: lc.Cloud, ctx: AppContext) -> None:
    result = run(ctx, adapter(cloud))
    r = result.region
    ec2 = cloud.client("ec2", lc.PROVIDER)
    tgw = ec2.describe_transit_gateways(TransitGatewayIds=[r.tgw_id])["TransitGateways"][0]
    opts = tgw["Options"]
    assert opts["AutoAcceptSharedAttachments"] == "disable"
    assert opts["DefaultRouteTableAssociation"] == "disable"
    assert opts["DefaultRouteTablePropagation"] == "disable"
    tags = {t["Key"]: t["Value"] for t in tgw["Tags"]}
    assert tags["linkplane:role"] == "tgw" and tags["linkplane:region"] == lc.REGION
    assert tags["linkplane:installation"] == _installation(ctx)
    assert tags["Name"] == f"linkplane-{_installation(ctx)}-{lc.REGION}-tgw"
    assert r.core_route_table_id != r.customers_route_table_id
    # one /28 subnet per AZ, all in the attachment
    subnets = ec2.describe_subnets(SubnetIds=r.subnet_ids)["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [
        "eu-central-1a", "eu-central-1b", "eu-central-1c",
    ]  # fmt: skip
    att = ec2.describe_transit_gateway_vpc_attachments(
        TransitGatewayAttachmentIds=[r.core_attachment_id]
    )["TransitGatewayVpcAttachments"][0]
    assert sorted(att["SubnetIds"]) == sorted(r.subnet_ids) and att["VpcId"] == r.core_vpc_id
    c = adapter(cloud)
    assert [a.attachment_id for a in c.route_table_associations(r.core_route_table_id)] == [
        r.core_attachment_id
    ]
    routes = c.search_routes(r.customers_route_table_id)
    assert [(x.cidr, x.attachment_ids) for x in routes] == [
        (ctx.settings.device_cidr, (r.core_attachment_id,))
    ]
    assert c.search_routes(r.core_route_table_id) == []  # customer routes come with breakouts
    assert "recorded region eu-central-1" in result.changes


def test_second_run_changes_nothing(cloud: lc.Cloud, ctx: AppContext) -> None:
    first = run(ctx, adapter(cloud))
    before = snapshot(cloud)
    second = run(ctx, adapter(cloud))
    assert second.changes == []
    assert second.region.model_dump(exclude={"updated_at"}) == first.region.model_dump(
        exclude={"updated_at"}
    )
    assert snapshot(cloud) == before
    with transaction(ctx.sessionmaker) as s:
        assert [r.name for r in service.list_regions(session=s)] == [lc.REGION]
        assert service.get_region(session=s, name=lc.REGION).tgw_id == first.region.tgw_id
        with pytest.raises(NotFound, match="linkplane region bootstrap --region eu-west-1"):
            service.get_region(session=s, name="eu-west-1")


@inproc_only
def test_adopts_existing_tgw_and_vpc(cloud: lc.Cloud, ctx: AppContext) -> None:
    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="theirs", client_token="own", tags={})
    vpc = c.create_vpc(cidr="10.50.0.0/16", tags={})
    sub = c.create_subnet(vpc_id=vpc.id, cidr="10.50.1.0/24", availability_zone="eu-central-1b")
    result = run(ctx, c, tgw_id=tgw.id, core_vpc_id=vpc.id)
    r = result.region
    assert (r.tgw_id, r.tgw_adopted, r.core_vpc_id, r.core_vpc_adopted) == (
        tgw.id, True, vpc.id, True,
    )  # fmt: skip
    assert r.subnet_ids == [sub.id] and r.core_vpc_cidr == "10.50.0.0/16"
    assert run(ctx, adapter(cloud)).changes == []  # adoption is remembered


@inproc_only
def test_bad_input_creates_nothing(cloud: lc.Cloud, ctx: AppContext) -> None:
    before = snapshot(cloud)
    c = adapter(cloud)
    with pytest.raises(InvalidInput, match="unknown region 'mars-1'; use one of"):
        service.bootstrap(factory=ctx.sessionmaker, cloud=c, settings=ctx.settings, region="mars-1")
    with pytest.raises(InvalidInput, match="transit gateway tgw-0123456789abcdef0 does not exist"):
        run(ctx, c, tgw_id="tgw-0123456789abcdef0")
    with pytest.raises(InvalidInput, match="VPC vpc-0123456789abcdef0 does not exist") as info:
        run(ctx, c, core_vpc_id="vpc-0123456789abcdef0")
    assert info.value.field == "core_vpc_id"
    with pytest.raises(InvalidInput, match="overlaps"):
        run(ctx, c, customer_aggregate="100.64.0.0/12")
    assert snapshot(cloud) == before
    with transaction(ctx.sessionmaker) as s:
        assert service.list_regions(session=s) == []


@pytest.mark.parametrize("fail_at", ["create_route_table", "create_static_route"])
def test_failure_mid_way_undoes_everything(
    cloud: lc.Cloud, ctx: AppContext, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    before = snapshot(cloud)
    c = adapter(cloud)
    real = getattr(AwsCloud, fail_at)
    calls = {"n": 0}

    def failing(self: AwsCloud, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2 or fail_at == "create_static_route":  # 2nd table: customers
            raise Throttled("injected fault", aws_code="RequestLimitExceeded")
        return real(self, **kwargs)

    monkeypatch.setattr(AwsCloud, fail_at, failing)
    with pytest.raises(Throttled, match="injected fault"):
        run(ctx, c, sleep=lambda _s: None)
    assert snapshot(cloud) == before
    with transaction(ctx.sessionmaker) as s:
        assert service.list_regions(session=s) == []


@inproc_only
def test_rebootstraps_when_the_stored_tgw_is_gone(cloud: lc.Cloud, ctx: AppContext) -> None:
    first = run(ctx, adapter(cloud)).region
    lc._reset()  # what a restart of the (in-memory) embedded cloud does
    second = run(ctx, adapter(cloud))
    assert f"stored transit gateway {first.tgw_id} no longer exists" in second.changes
    assert second.region.tgw_id != first.tgw_id
    assert adapter(cloud).describe_transit_gateway(second.region.tgw_id) is not None


@inproc_only
def test_aggregate_route_in_the_core_vpc(cloud: lc.Cloud, ctx: AppContext) -> None:
    r = run(ctx, adapter(cloud), customer_aggregate="10.0.0.0/9").region
    c = adapter(cloud)
    main = c.main_route_table_id(r.core_vpc_id)
    assert any(x.cidr == "10.0.0.0/9" and x.target == r.tgw_id for x in c.vpc_routes(main))
    assert r.customer_aggregate_cidr == "10.0.0.0/9"


@inproc_only
def test_aggregate_route_pointed_elsewhere_is_pointed_back(
    cloud: lc.Cloud, ctx: AppContext
) -> None:
    r = run(ctx, adapter(cloud), customer_aggregate="10.0.0.0/9").region
    c = adapter(cloud)
    main = c.main_route_table_id(r.core_vpc_id)
    ec2 = cloud.client("ec2", lc.PROVIDER)
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=r.core_vpc_id)
    ec2.replace_route(RouteTableId=main, DestinationCidrBlock="10.0.0.0/9", GatewayId=igw)
    second = run(ctx, adapter(cloud), customer_aggregate="10.0.0.0/9")
    assert any("10.0.0.0/9" in change for change in second.changes)
    assert [x.target for x in c.vpc_routes(main) if x.cidr == "10.0.0.0/9"] == [r.tgw_id]


def test_attachment_subnets_come_from_the_top_slash_24() -> None:
    assert attachment_subnet_cidrs("10.255.0.0/16", 3) == [
        "10.255.255.0/28", "10.255.255.16/28", "10.255.255.32/28",
    ]  # fmt: skip
    with pytest.raises(InvalidInput):
        attachment_subnet_cidrs("10.0.0.0/25", 1)


# --- two installations (two databases) in one provider account ------------------------------
@pytest.fixture
def other(tmp_path: Path) -> Iterator[AppContext]:
    """A second installation: its own data directory, database and so installation id."""
    context = open_context(Settings(data_dir=tmp_path / "other"))
    yield context
    context.close()


def test_two_installations_build_separate_provider_sides(
    cloud: lc.Cloud, ctx: AppContext, other: AppContext
) -> None:
    assert _installation(ctx) != _installation(other)
    mine, theirs = run(ctx, adapter(cloud)).region, run(other, adapter(cloud)).region
    for field in ("tgw_id", "core_route_table_id", "customers_route_table_id", "core_vpc_id",
                  "core_attachment_id"):  # fmt: skip
        assert getattr(mine, field) != getattr(theirs, field), field
    # Re-runs find each installation's own, by stored id and by its tags.
    assert run(ctx, adapter(cloud)).changes == [] and run(other, adapter(cloud)).changes == []
    with transaction(ctx.sessionmaker) as s:
        s.execute(delete(Region))  # lost database row: found again by this installation's tags
    assert run(ctx, adapter(cloud)).region.tgw_id == mine.tgw_id


@inproc_only
def test_another_installations_tgw_or_vpc_is_never_adopted(
    cloud: lc.Cloud, ctx: AppContext, other: AppContext
) -> None:
    theirs = run(other, adapter(cloud)).region
    with pytest.raises(Conflict, match=f"belongs to linkplane installation {_installation(other)}"):
        run(ctx, adapter(cloud), tgw_id=theirs.tgw_id)
    with pytest.raises(Conflict, match="belongs to linkplane installation") as info:
        run(ctx, adapter(cloud), core_vpc_id=theirs.core_vpc_id)
    assert info.value.field == "core_vpc_id"
    with transaction(ctx.sessionmaker) as s:
        assert service.list_regions(session=s) == []


@inproc_only
def test_a_region_bootstrapped_before_installation_ids_is_kept(
    cloud: lc.Cloud, ctx: AppContext
) -> None:
    """Pre-0007 resources carry no installation tag: the stored ones (and the TGW's route
    tables) are still this installation's, so a re-run finds them all and changes nothing."""
    first = run(ctx, adapter(cloud)).region
    ec2 = cloud.client("ec2", lc.PROVIDER)
    ids = [first.tgw_id, first.core_route_table_id, first.customers_route_table_id,
           first.core_vpc_id, first.core_attachment_id]  # fmt: skip
    ec2.delete_tags(Resources=ids, Tags=[{"Key": "linkplane:installation"}])
    tgw = adapter(cloud).describe_transit_gateway(first.tgw_id)
    assert tgw is not None and "linkplane:installation" not in tgw.tags
    again = run(ctx, adapter(cloud))
    assert again.changes == []
    assert again.region.model_dump(exclude={"updated_at"}) == first.model_dump(
        exclude={"updated_at"}
    )
