"""Default route tables, associations, propagations and static routes of a shared gateway."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import CUSTOMER, PROVIDER, Cloud
from tests.localcloud.test_ec2_support import (
    accepted_attachment,
    attach,
    attachment,
    client,
    error_code,
    make_tgw,
    make_vpc,
    shared_world,
)


def table(cloud: Cloud, tgw_id: str) -> str:
    ec2 = client(cloud, "ec2", PROVIDER)
    created = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw_id)
    return str(created["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"])


def associations(cloud: Cloud, table_id: str) -> list[str]:
    ec2 = client(cloud, "ec2", PROVIDER)
    found = ec2.get_transit_gateway_route_table_associations(TransitGatewayRouteTableId=table_id)
    return [a["TransitGatewayAttachmentId"] for a in found["Associations"]]


def search(cloud: Cloud, table_id: str, filters: dict[str, list[str]], **extra: Any) -> Any:
    return client(cloud, "ec2", PROVIDER).search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id,
        Filters=[{"Name": k, "Values": v} for k, v in filters.items()],
        **extra,
    )


def test_no_default_table_when_defaults_disabled(cloud: Cloud) -> None:
    world = shared_world(cloud)
    ec2 = client(cloud, "ec2", PROVIDER)
    assert ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"] == []
    assert "AssociationDefaultRouteTableId" not in world.tgw["Options"]
    attachment_id = accepted_attachment(cloud, world)
    assert "Association" not in attachment(cloud, PROVIDER, attachment_id)


def test_default_table_used_when_defaults_enabled(cloud: Cloud) -> None:
    world = shared_world(cloud, defaults=True)
    default_id = world.tgw["Options"]["AssociationDefaultRouteTableId"]
    attachment_id = accepted_attachment(cloud, world)
    assert attachment(cloud, PROVIDER, attachment_id)["Association"] == {
        "TransitGatewayRouteTableId": default_id,
        "State": "associated",
    }
    propagations = client(cloud, "ec2", PROVIDER).get_transit_gateway_route_table_propagations(
        TransitGatewayRouteTableId=default_id
    )["TransitGatewayRouteTablePropagations"]
    assert [p["TransitGatewayAttachmentId"] for p in propagations] == [attachment_id]
    routes = search(cloud, default_id, {"type": ["propagated"]})["Routes"]
    assert [r["DestinationCidrBlock"] for r in routes] == ["10.1.0.0/16"]
    # Disassociating a default association works (moto 5.2.5 answered 500).
    ec2 = client(cloud, "ec2", PROVIDER)
    gone = ec2.disassociate_transit_gateway_route_table(
        TransitGatewayAttachmentId=attachment_id, TransitGatewayRouteTableId=default_id
    )["Association"]
    assert gone["State"] == "disassociating"
    assert "Association" not in attachment(cloud, CUSTOMER, attachment_id)


def test_associate_disassociate_reassociate(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = accepted_attachment(cloud, world)
    first, second = table(cloud, world.tgw_id), table(cloud, world.tgw_id)
    ec2 = client(cloud, "ec2", PROVIDER)
    pair = {"TransitGatewayAttachmentId": attachment_id}
    ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=first, **pair)
    assert associations(cloud, first) == [attachment_id]
    with pytest.raises(ClientError) as exc:
        ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=second, **pair)
    assert error_code(exc) == "Resource.AlreadyAssociated"
    ec2.disassociate_transit_gateway_route_table(TransitGatewayRouteTableId=first, **pair)
    assert "Association" not in attachment(cloud, PROVIDER, attachment_id)
    ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=second, **pair)
    assert associations(cloud, first) == []
    assert associations(cloud, second) == [attachment_id]
    for account in (PROVIDER, CUSTOMER):
        seen = attachment(cloud, account, attachment_id)["Association"]
        assert seen == {"TransitGatewayRouteTableId": second, "State": "associated"}


def test_only_the_owner_routes(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = accepted_attachment(cloud, world)
    table_id = table(cloud, world.tgw_id)
    customer = client(cloud, "ec2", CUSTOMER)
    with pytest.raises(ClientError) as exc:
        customer.associate_transit_gateway_route_table(
            TransitGatewayAttachmentId=attachment_id, TransitGatewayRouteTableId=table_id
        )
    assert error_code(exc) == "InvalidRouteTableID.NotFound"
    with pytest.raises(ClientError) as exc:
        customer.create_transit_gateway_route(
            TransitGatewayRouteTableId=table_id,
            DestinationCidrBlock="10.1.0.0/16",
            TransitGatewayAttachmentId=attachment_id,
        )
    assert error_code(exc) == "InvalidRouteTableID.NotFound"


def test_pending_attachment_cannot_be_associated(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    with pytest.raises(ClientError) as exc:
        client(cloud, "ec2", PROVIDER).associate_transit_gateway_route_table(
            TransitGatewayAttachmentId=attachment_id,
            TransitGatewayRouteTableId=table(cloud, world.tgw_id),
        )
    assert error_code(exc) == "IncorrectState"


def _routed_world(cloud: Cloud) -> tuple[str, str, str]:
    """Core table with static routes 10.1.0.0/16 and 10.1.2.0/24 to the customer, and a
    blackhole 10.9.0.0/16."""
    world = shared_world(cloud)
    attachment_id = accepted_attachment(cloud, world)
    table_id = table(cloud, world.tgw_id)
    ec2 = client(cloud, "ec2", PROVIDER)
    for cidr in ("10.1.0.0/16", "10.1.2.0/24"):
        ec2.create_transit_gateway_route(
            TransitGatewayRouteTableId=table_id,
            DestinationCidrBlock=cidr,
            TransitGatewayAttachmentId=attachment_id,
        )
    hole = ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.9.0.0/16", Blackhole=True
    )["Route"]
    assert hole["State"] == "blackhole"
    return table_id, attachment_id, world.vpc.id


def _cidrs(result: Any) -> list[str]:
    return [r["DestinationCidrBlock"] for r in result["Routes"]]


def test_search_reports_attachments_and_filters(cloud: Cloud) -> None:
    table_id, attachment_id, vpc_id = _routed_world(cloud)
    found = search(cloud, table_id, {"route-search.exact-match": ["10.1.0.0/16"]})
    (route,) = found["Routes"]
    assert route["TransitGatewayAttachments"] == [
        {"TransitGatewayAttachmentId": attachment_id, "ResourceId": vpc_id, "ResourceType": "vpc"}
    ]
    assert route["Type"] == "static" and route["State"] == "active"
    assert _cidrs(search(cloud, table_id, {"state": ["blackhole"]})) == ["10.9.0.0/16"]
    active = search(cloud, table_id, {"state": ["active"], "type": ["static"]})
    assert _cidrs(active) == ["10.1.0.0/16", "10.1.2.0/24"]
    lpm = {"route-search.longest-prefix-match": ["10.1.2.7/32"]}
    assert _cidrs(search(cloud, table_id, lpm)) == ["10.1.2.0/24"]
    subnets = {"route-search.subnet-of-match": ["10.0.0.0/8"]}
    assert _cidrs(search(cloud, table_id, subnets)) == ["10.1.0.0/16", "10.1.2.0/24", "10.9.0.0/16"]
    supernets = {"route-search.supernet-of-match": ["10.1.2.0/25"]}
    assert _cidrs(search(cloud, table_id, supernets)) == ["10.1.0.0/16", "10.1.2.0/24"]
    for name, value in (
        ("attachment.transit-gateway-attachment-id", attachment_id),
        ("attachment.resource-id", vpc_id),
        ("attachment.resource-type", "vpc"),
    ):
        assert _cidrs(search(cloud, table_id, {name: [value]})) == ["10.1.0.0/16", "10.1.2.0/24"]


def test_search_honours_max_results(cloud: Cloud) -> None:
    table_id, _, _ = _routed_world(cloud)
    everything = {"route-search.subnet-of-match": ["0.0.0.0/0"]}
    page = search(cloud, table_id, everything, MaxResults=5)
    assert page["AdditionalRoutesAvailable"] is False and len(page["Routes"]) == 3
    ec2 = client(cloud, "ec2", PROVIDER)
    for i in range(3):
        ec2.create_transit_gateway_route(
            TransitGatewayRouteTableId=table_id, DestinationCidrBlock=f"10.{20 + i}.0.0/16",
            Blackhole=True,
        )  # fmt: skip
    page = search(cloud, table_id, everything, MaxResults=5)
    assert page["AdditionalRoutesAvailable"] is True and len(page["Routes"]) == 5


def test_deleting_the_attachment_blackholes_its_routes_and_drops_routing(cloud: Cloud) -> None:
    table_id, attachment_id, _ = _routed_world(cloud)
    ec2 = client(cloud, "ec2", PROVIDER)
    pair = {"TransitGatewayAttachmentId": attachment_id, "TransitGatewayRouteTableId": table_id}
    ec2.associate_transit_gateway_route_table(**pair)
    ec2.enable_transit_gateway_route_table_propagation(**pair)
    ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    assert associations(cloud, table_id) == []
    propagations = ec2.get_transit_gateway_route_table_propagations(
        TransitGatewayRouteTableId=table_id
    )
    assert propagations["TransitGatewayRouteTablePropagations"] == []
    routes = search(cloud, table_id, {"route-search.subnet-of-match": ["10.0.0.0/8"]})["Routes"]
    assert {r["DestinationCidrBlock"]: r["State"] for r in routes} == {
        "10.1.0.0/16": "blackhole",
        "10.1.2.0/24": "blackhole",
        "10.9.0.0/16": "blackhole",
    }
    assert all(r["Type"] == "static" for r in routes)


def test_replace_and_delete_route(cloud: Cloud) -> None:
    table_id, attachment_id, _ = _routed_world(cloud)
    ec2 = client(cloud, "ec2", PROVIDER)
    replaced = ec2.replace_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.9.0.0/16",
        TransitGatewayAttachmentId=attachment_id,
    )["Route"]  # fmt: skip
    assert replaced["State"] == "active"
    ec2.delete_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.9.0.0/16"
    )
    assert search(cloud, table_id, {"route-search.exact-match": ["10.9.0.0/16"]})["Routes"] == []
    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway_route(
            TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.9.0.0/16"
        )
    assert error_code(exc) == "InvalidRoute.NotFound"
    with pytest.raises(ClientError) as exc:
        ec2.create_transit_gateway_route(
            TransitGatewayRouteTableId=table_id, DestinationCidrBlock="10.1.0.0/16", Blackhole=True
        )
    assert error_code(exc) == "RouteAlreadyExists"


def test_gateway_with_live_attachments_cannot_be_deleted(cloud: Cloud) -> None:
    tgw = make_tgw(cloud)
    world_tgw = tgw["TransitGatewayId"]
    attach(cloud, PROVIDER, world_tgw, make_vpc(cloud, PROVIDER))
    with pytest.raises(ClientError) as exc:
        client(cloud, "ec2", PROVIDER).delete_transit_gateway(TransitGatewayId=world_tgw)
    assert error_code(exc) == "IncorrectState"
