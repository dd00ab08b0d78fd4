"""The inventory sees every share, association, attachment and route, and its diff against a
baseline shows exactly what was left behind."""

from __future__ import annotations

from linkplane.localcloud.inventory import Inventory, snapshot
from tests.localcloud.conftest import CUSTOMER, PROVIDER, REGION, Cloud
from tests.localcloud.test_ec2_support import accepted_attachment, client, shared_world

ACCOUNTS = [PROVIDER, CUSTOMER]


def _snap(cloud: Cloud) -> Inventory:
    return snapshot(cloud.endpoint_url, ACCOUNTS, [REGION])


def test_inventory_lists_the_flow_and_diffs_against_a_baseline(cloud: Cloud) -> None:
    world = shared_world(cloud)
    ec2 = client(cloud, "ec2", PROVIDER)
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=world.tgw_id)[
        "TransitGatewayRouteTable"
    ]["TransitGatewayRouteTableId"]
    baseline = _snap(cloud)
    assert len(baseline.shares) == 1 and len(baseline.principal_associations) == 1
    assert baseline.attachments == frozenset()

    attachment_id = accepted_attachment(cloud, world)
    pair = {"TransitGatewayAttachmentId": attachment_id, "TransitGatewayRouteTableId": table_id}
    ec2.associate_transit_gateway_route_table(**pair)
    ec2.enable_transit_gateway_route_table_propagation(**pair)
    ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id,
        DestinationCidrBlock="10.50.0.0/16",
        TransitGatewayAttachmentId=attachment_id,
    )
    grown = _snap(cloud).beyond(baseline)
    (att,) = grown.attachments
    assert (att.id, att.resource_owner_id, att.state) == (attachment_id, CUSTOMER, "available")
    assert [a.attachment_id for a in grown.associations] == [attachment_id]
    assert [p.attachment_id for p in grown.propagations] == [attachment_id]
    assert {(r.destination, r.type, r.state) for r in grown.routes} == {
        ("10.50.0.0/16", "static", "active"),
        ("10.1.0.0/16", "propagated", "active"),
    }
    assert grown.shares == frozenset() and not grown.is_empty()

    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    stale = _snap(cloud).beyond(baseline)
    # Only the static route remains, now a blackhole: exactly what a rollback must clean.
    (route,) = stale.routes
    assert (route.destination, route.state) == ("10.50.0.0/16", "blackhole")
    assert "10.50.0.0/16" in stale.report()
    ec2.delete_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.50.0.0/16"
    )
    clean = _snap(cloud).beyond(baseline)
    assert clean.is_empty(), clean.report()


def test_deleted_share_is_not_listed(cloud: Cloud) -> None:
    world = shared_world(cloud)
    ram = client(cloud, "ram", PROVIDER)
    (share,) = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    ram.delete_resource_share(resourceShareArn=share["resourceShareArn"])
    now = _snap(cloud)
    assert now.shares == frozenset() and now.principal_associations == frozenset()
    assert world.tgw_id
