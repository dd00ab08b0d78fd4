"""The boto3 adapter against the embedded cloud (in-process and over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from linkplane.cloud.aws import AwsCloud, SessionSource
from linkplane.cloud.errors import EndpointUnreachable, ResourceNotFound, Throttled
from linkplane.cloud.port import CloudPort, PrincipalStatus
from linkplane.cloud.ratelimit import RateLimiter
from linkplane.cloud.retry import RetryPolicy
from linkplane.localcloud.accounts import session_for
from tests.cloudkit import adapter
from tests.localcloud import conftest as lc

cloud = lc.cloud
_http_cloud = lc._http_cloud


def test_is_a_cloud_port(cloud: lc.Cloud) -> None:
    port: CloudPort = adapter(cloud)
    assert port.account_id == lc.PROVIDER
    assert port.for_region("eu-west-1").region == "eu-west-1"
    assert "eu-central-1a" in port.availability_zones()
    assert "eu-central-1" in port.list_regions()
    port.check_reachable()


def test_transit_gateway_idempotent_by_client_token(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="d", client_token="tok-1", tags={"a": "b"})
    again = c.create_transit_gateway(description="d", client_token="tok-1", tags={"a": "b"})
    assert again.id == tgw.id
    assert not tgw.auto_accept_shared_attachments
    assert not tgw.default_association and not tgw.default_propagation
    assert tgw.owner_id == lc.PROVIDER and tgw.arn.endswith(tgw.id)
    assert [t.id for t in c.find_transit_gateways(tags={"a": "b"})] == [tgw.id]
    assert c.find_transit_gateways(tags={"a": "other"}) == []
    assert c.describe_transit_gateway(tgw.id) == tgw
    assert c.describe_transit_gateway("tgw-0123456789abcdef0") is None
    c.delete_transit_gateway(tgw.id)
    c.delete_transit_gateway(tgw.id)  # already gone: success
    assert c.describe_transit_gateway(tgw.id) is None


def _network(c: AwsCloud) -> tuple[Any, Any, Any, Any]:
    tgw = c.create_transit_gateway(description="d", client_token="net", tags={})
    table = c.create_route_table(tgw_id=tgw.id, tags={"role": "core"})
    vpc = c.create_vpc(cidr="10.9.0.0/16", tags={"role": "core-vpc"})
    subnet = c.create_subnet(vpc_id=vpc.id, cidr="10.9.0.0/24", availability_zone="eu-central-1a")
    return tgw, table, vpc, subnet


def test_route_tables_vpcs_subnets_look_up_before_create(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw, table, vpc, subnet = _network(c)
    assert c.create_route_table(tgw_id=tgw.id, tags={"role": "core"}).id == table.id
    assert [t.id for t in c.find_route_tables(tgw_id=tgw.id, tags={"role": "core"})] == [table.id]
    assert c.create_vpc(cidr="10.9.0.0/16", tags={"role": "core-vpc"}).id == vpc.id
    assert c.describe_vpc(vpc.id) == vpc and c.describe_vpc("vpc-0000000000000000") is None
    same = c.create_subnet(vpc_id=vpc.id, cidr="10.9.0.0/24", availability_zone="eu-central-1a")
    assert same.id == subnet.id
    assert c.list_subnets(vpc.id) == [subnet]
    c.delete_route_table(table.id)
    c.delete_route_table(table.id)
    assert c.find_route_tables(tgw_id=tgw.id, tags={"role": "core"}) == []
    c.delete_subnet(subnet.id)
    c.delete_subnet(subnet.id)
    assert c.list_subnets(vpc.id) == []


def test_attachment_association_and_routes(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw, table, vpc, subnet = _network(c)
    att = c.create_vpc_attachment(tgw_id=tgw.id, vpc_id=vpc.id, subnet_ids=[subnet.id], tags={})
    assert (
        c.create_vpc_attachment(tgw_id=tgw.id, vpc_id=vpc.id, subnet_ids=[subnet.id], tags={}).id
        == att.id
    )
    assert att.resource_id == vpc.id and att.resource_owner_id == lc.PROVIDER
    assert [a.id for a in c.list_attachments(tgw_id=tgw.id, resource_type="vpc")] == [att.id]
    assert c.list_attachments(tgw_id=tgw.id, resource_owner_id=lc.CUSTOMER) == []
    c.associate_route_table(route_table_id=table.id, attachment_id=att.id)
    c.associate_route_table(route_table_id=table.id, attachment_id=att.id)  # already: success
    assert [a.attachment_id for a in c.route_table_associations(table.id)] == [att.id]
    c.create_static_route(route_table_id=table.id, cidr="100.64.0.0/10", attachment_id=att.id)
    c.create_static_route(route_table_id=table.id, cidr="100.64.0.0/10", attachment_id=att.id)
    routes = [r for r in c.search_routes(table.id) if r.cidr == "100.64.0.0/10"]
    assert len(routes) == 1 and routes[0].type == "static"
    c.delete_static_route(route_table_id=table.id, cidr="100.64.0.0/10")
    c.delete_static_route(route_table_id=table.id, cidr="100.64.0.0/10")
    assert [r for r in c.search_routes(table.id) if r.cidr == "100.64.0.0/10"] == []
    main = c.main_route_table_id(vpc.id)
    assert c.ensure_vpc_route_to_tgw(route_table_id=main, cidr="10.0.0.0/8", tgw_id=tgw.id)
    assert not c.ensure_vpc_route_to_tgw(route_table_id=main, cidr="10.0.0.0/8", tgw_id=tgw.id)
    assert any(r.cidr == "10.0.0.0/8" and r.target == tgw.id for r in c.vpc_routes(main))
    c.delete_vpc_route(route_table_id=main, cidr="10.0.0.0/8")
    c.delete_vpc_route(route_table_id=main, cidr="10.0.0.0/8")
    c.disassociate_route_table(route_table_id=table.id, attachment_id=att.id)
    c.disassociate_route_table(route_table_id=table.id, attachment_id=att.id)
    c.delete_vpc_attachment(att.id)
    c.delete_vpc_attachment(att.id)
    gone = c.describe_attachment(att.id)
    assert gone is None or gone.state in {"deleting", "deleted"}


def test_missing_things(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    assert c.describe_attachment("tgw-attach-0123456789abcdef0") is None
    with pytest.raises(ResourceNotFound):
        c.accept_vpc_attachment("tgw-attach-0123456789abcdef0")
    c.delete_vpc("vpc-0123456789abcdef0")  # gone already: success


def test_resource_share_idempotent_and_principal_status(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="d", client_token="share", tags={})
    kwargs: dict[str, Any] = {
        "name": "breakout-1", "resource_arn": tgw.arn, "principal": lc.CUSTOMER,
        "client_token": "breakout-1", "tags": {"linkplane:breakout": "1"},
    }  # fmt: skip
    share = c.ensure_resource_share(**kwargs)
    assert c.ensure_resource_share(**kwargs).arn == share.arn
    assert c.find_resource_share(name="breakout-1") == share
    assert [s.arn for s in c.list_resource_shares(tag_key="linkplane:breakout")] == [share.arn]
    assert c.principal_status(share_arn=share.arn, principal=lc.CUSTOMER) is PrincipalStatus.PENDING
    assert c.principal_status(share_arn=share.arn, principal=lc.OTHER) is PrincipalStatus.GONE
    c.delete_resource_share(share_arn=share.arn)
    c.delete_resource_share(share_arn=share.arn)
    assert c.find_resource_share(name="breakout-1") is None


def test_invitation_accepted_by_the_customer(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="d", client_token="acc", tags={})
    share = c.ensure_resource_share(
        name="b2", resource_arn=tgw.arn, principal=lc.CUSTOMER, client_token="b2", tags={}
    )
    ram = cloud.client("ram", lc.CUSTOMER)
    inv = ram.get_resource_share_invitations()["resourceShareInvitations"][0]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=inv["resourceShareInvitationArn"]
    )
    assert (
        c.principal_status(share_arn=share.arn, principal=lc.CUSTOMER) is PrincipalStatus.ACCEPTED
    )
    assocs = c.share_associations(share_arn=share.arn)
    assert [(a.associated_entity, a.status) for a in assocs] == [(lc.CUSTOMER, "ASSOCIATED")]


def test_pages_are_each_limited_and_retried() -> None:
    pages = [
        {"Vpcs": [1, 2], "NextToken": "a"},
        Throttled("slow down"),
        {"Vpcs": [3], "NextToken": "b"},
        {"Vpcs": [4]},
    ]
    seen: list[dict[str, Any]] = []

    def fake(**kwargs: Any) -> Any:
        seen.append(kwargs)
        page = pages.pop(0)
        if isinstance(page, Exception):
            raise page
        return page

    sleeps: list[float] = []
    c = AwsCloud(
        SessionSource(lambda: session_for(lc.PROVIDER, region=lc.REGION, endpoint_url=None), None),
        region=lc.REGION, account_id=lc.PROVIDER,
        policy=RetryPolicy(max_attempts=3, sleep=sleeps.append, random=lambda: 0.0),
        limiter=RateLimiter(),
    )  # fmt: skip
    assert c._pages("ec2", "DescribeVpcs", fake, "Vpcs", Filters=[]) == [1, 2, 3, 4]
    assert [k.get("NextToken") for k in seen] == [None, "a", "a", "b"]
    assert len(sleeps) == 1


def test_unreachable_endpoint_fails_fast() -> None:
    c = AwsCloud(
        SessionSource(lambda: session_for(lc.PROVIDER, region=lc.REGION,
                                          endpoint_url="http://127.0.0.1:9"),
                      "http://127.0.0.1:9"),
        region=lc.REGION, account_id=lc.PROVIDER,
    )  # fmt: skip
    with pytest.raises(
        EndpointUnreachable, match=r"cannot reach AWS endpoint URL: http://127\.0\.0\.1:9"
    ):
        c.check_reachable()


def test_customer_attachment_waits_for_the_provider(cloud: lc.Cloud) -> None:
    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="d", client_token="x-acct", tags={})
    c.ensure_resource_share(
        name="b3", resource_arn=tgw.arn, principal=lc.CUSTOMER, client_token="b3", tags={}
    )
    ram = cloud.client("ram", lc.CUSTOMER)
    inv = ram.get_resource_share_invitations()["resourceShareInvitations"][0]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=inv["resourceShareInvitationArn"]
    )
    ec2 = cloud.client("ec2", lc.CUSTOMER)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.0.0/24")["Subnet"]["SubnetId"]
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw.id, VpcId=vpc, SubnetIds=[sub])
    pending = c.list_attachments(tgw_id=tgw.id, states=["pendingAcceptance"])
    assert [(a.resource_id, a.resource_owner_id) for a in pending] == [(vpc, lc.CUSTOMER)]
    accepted = c.accept_vpc_attachment(pending[0].id)
    assert accepted.state in {"pending", "available"}
    assert c.accept_vpc_attachment(pending[0].id).id == pending[0].id  # again: success


def test_vpn_connection_on_the_gateway_idempotent_with_tunnels_and_metrics(
    cloud: lc.Cloud,
) -> None:
    from linkplane.cloud.port import TunnelSpec
    from linkplane.localcloud.ec2 import vpn as vpn_ext

    c = adapter(cloud)
    tgw = c.create_transit_gateway(description="d", client_token="vpn", tags={})
    tags = {"linkplane:breakout": "7"}
    cgw = c.ensure_customer_gateway(public_ip="198.51.100.20", asn=65001, device_name="b7",
                                    tags=tags)  # fmt: skip
    assert c.ensure_customer_gateway(public_ip="198.51.100.20", asn=65001, device_name="b7",
                                     tags=tags).id == cgw.id  # fmt: skip
    assert (cgw.public_ip, cgw.asn) == ("198.51.100.20", 65001)
    specs = (TunnelSpec("psk.for_one", "169.254.50.0/30"), TunnelSpec("psk.for_two", ""))
    made = c.ensure_vpn_connection(customer_gateway_id=cgw.id, tgw_id=tgw.id,
                                   static_routes_only=True, tunnels=specs, tags=tags)  # fmt: skip
    again = c.ensure_vpn_connection(customer_gateway_id=cgw.id, tgw_id=tgw.id,
                                    static_routes_only=True, tunnels=specs, tags=tags)  # fmt: skip
    assert again.id == made.id and made.static_routes_only
    found = c.describe_vpn_connection(made.id)
    assert found is not None and found.state == "available"
    first = found.tunnels[0]
    assert (first.psk, first.inside_cidr) == ("psk.for_one", "169.254.50.0/30")
    assert found.tunnels[1].psk == "psk.for_two" and found.tunnels[1].inside_cidr
    assert [v.id for v in c.list_vpn_connections(tgw_id=tgw.id)] == [made.id]
    # The audit's filtered reads: only what carries every given tag.
    other = {**tags, "linkplane:installation": "not-this-one"}
    assert [v.id for v in c.list_vpn_connections(tgw_id=tgw.id, tags=tags)] == [made.id]
    assert c.list_vpn_connections(tgw_id=tgw.id, tags=other) == []
    assert cgw.id in [g.id for g in c.list_customer_gateways(tags=tags)]
    assert c.list_customer_gateways(tags=other) == []
    attachment = c.vpn_attachment(tgw_id=tgw.id, vpn_id=made.id)
    assert attachment is not None and attachment.resource_type == "vpn"
    up = found.tunnels[0].outside_ip
    vpn_ext.set_tunnel_status(made.id, up, "UP")
    vpn_ext.record_tunnel_traffic(made.id, up, bytes_in=10, bytes_out=20)
    metrics = c.tunnel_metrics([(made.id, t.outside_ip) for t in found.tunnels])
    assert [(m.state, m.bytes_in, m.bytes_out) for m in metrics] == [(1.0, 10.0, 20.0),
                                                                    (0.0, 0.0, 0.0)]
    now = c.describe_vpn_connection(made.id)
    assert now is not None and [t.status for t in now.tunnels] == ["UP", "DOWN"]
    c.delete_vpn_connection(made.id)
    c.delete_vpn_connection(made.id)  # already gone: success
    assert c.vpn_attachment(tgw_id=tgw.id, vpn_id=made.id) is None
    c.delete_customer_gateway(cgw.id)
    c.delete_customer_gateway(cgw.id)
    assert c.describe_vpn_connection("vpn-0123456789abcdef0") is None


def test_a_vpc_route_is_created_without_reading_the_table_and_repointed_when_it_differs(
    cloud: lc.Cloud,
) -> None:
    """The core VPC's table holds a route per breakout: reading it for every new route made
    routing O(fleet). The read is left for a route that already exists."""
    c = adapter(cloud)
    tgw, _, vpc, _ = _network(c)
    other = c.create_transit_gateway(description="other", client_token="other", tags={})
    main = c.main_route_table_id(vpc.id)
    calls: list[str] = []
    c.ec2.meta.events.register("before-call.ec2.*", lambda model, **_: calls.append(model.name))
    assert c.ensure_vpc_route_to_tgw(route_table_id=main, cidr="10.1.0.0/16", tgw_id=tgw.id)
    assert calls == ["CreateRoute"]
    assert c.ensure_vpc_route_to_tgw(route_table_id=main, cidr="10.1.0.0/16", tgw_id=other.id)
    assert calls[1:] == ["CreateRoute", "DescribeRouteTables", "ReplaceRoute"]
    assert [r.target for r in c.vpc_routes(main) if r.cidr == "10.1.0.0/16"] == [other.id]
