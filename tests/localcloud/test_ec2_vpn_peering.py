"""VPN connections on a gateway and cross-region gateway peering."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import PROVIDER, Cloud
from tests.localcloud.test_ec2_support import attachment, client, error_code, make_tgw

OTHER_REGION = "eu-west-1"


def test_vpn_connection_creates_a_vpn_attachment_with_two_tunnels(cloud: Cloud) -> None:
    tgw_id = make_tgw(cloud, defaults=True)["TransitGatewayId"]
    ec2 = client(cloud, "ec2", PROVIDER)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.7", BgpAsn=65000)
    vpn = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
        TransitGatewayId=tgw_id, Options={"StaticRoutesOnly": True},
    )["VpnConnection"]  # fmt: skip
    tunnels = vpn["Options"]["TunnelOptions"]
    assert len(tunnels) == 2 and len(vpn["VgwTelemetry"]) == 2
    assert len({t["TunnelInsideCidr"] for t in tunnels}) == 2
    assert all(t["PreSharedKey"] and t["OutsideIpAddress"] for t in tunnels)
    assert vpn["Options"]["StaticRoutesOnly"] is True
    (found,) = ec2.describe_transit_gateway_attachments(
        Filters=[{"Name": "resource-type", "Values": ["vpn"]}]
    )["TransitGatewayAttachments"]
    assert found["ResourceId"] == vpn["VpnConnectionId"] and found["State"] == "available"
    assert found["Association"]["State"] == "associated"  # default association is on
    ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
    gone = attachment(cloud, PROVIDER, found["TransitGatewayAttachmentId"])
    assert gone["State"] == "deleted" and "Association" not in gone


def _peering(cloud: Cloud) -> tuple[str, str, str]:
    here = make_tgw(cloud)["TransitGatewayId"]
    there = make_tgw(cloud, region=OTHER_REGION)["TransitGatewayId"]
    created = client(cloud, "ec2", PROVIDER).create_transit_gateway_peering_attachment(
        TransitGatewayId=here, PeerTransitGatewayId=there, PeerAccountId=PROVIDER,
        PeerRegion=OTHER_REGION,
    )["TransitGatewayPeeringAttachment"]  # fmt: skip
    return here, there, created["TransitGatewayAttachmentId"]


def test_cross_region_peering_is_accepted_in_the_peer_region(cloud: Cloud) -> None:
    here, there, attachment_id = _peering(cloud)
    peer = client(cloud, "ec2", PROVIDER, OTHER_REGION)
    (pending,) = peer.describe_transit_gateway_attachments()["TransitGatewayAttachments"]
    assert pending["State"] == "pendingAcceptance"
    assert pending["TransitGatewayId"] == there and pending["ResourceId"] == here
    with pytest.raises(ClientError):
        client(cloud, "ec2", PROVIDER).accept_transit_gateway_peering_attachment(
            TransitGatewayAttachmentId=attachment_id
        )
    peer.accept_transit_gateway_peering_attachment(TransitGatewayAttachmentId=attachment_id)
    mine = attachment(cloud, PROVIDER, attachment_id)
    assert mine["State"] == "available" and mine["ResourceType"] == "peering"
    assert mine["TransitGatewayId"] == here and mine["ResourceId"] == there


def test_peering_takes_static_routes_only(cloud: Cloud) -> None:
    here, _, attachment_id = _peering(cloud)
    client(cloud, "ec2", PROVIDER, OTHER_REGION).accept_transit_gateway_peering_attachment(
        TransitGatewayAttachmentId=attachment_id
    )
    ec2 = client(cloud, "ec2", PROVIDER)
    table_id = ec2.create_transit_gateway_route_table(TransitGatewayId=here)[
        "TransitGatewayRouteTable"
    ]["TransitGatewayRouteTableId"]
    pair = {"TransitGatewayAttachmentId": attachment_id, "TransitGatewayRouteTableId": table_id}
    with pytest.raises(ClientError) as exc:
        ec2.enable_transit_gateway_route_table_propagation(**pair)
    assert error_code(exc) == "InvalidParameterValue"
    route = ec2.create_transit_gateway_route(
        TransitGatewayRouteTableId=table_id, DestinationCidrBlock="172.16.0.0/16",
        TransitGatewayAttachmentId=attachment_id,
    )["Route"]  # fmt: skip
    assert route["State"] == "active"
    assert route["TransitGatewayAttachments"][0]["ResourceType"] == "peering"
    ec2.associate_transit_gateway_route_table(**pair)
    ec2.delete_transit_gateway_peering_attachment(TransitGatewayAttachmentId=attachment_id)
    assert "Association" not in attachment(cloud, PROVIDER, attachment_id)
    routes = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id, Filters=[{"Name": "state", "Values": ["blackhole"]}]
    )["Routes"]
    assert [r["DestinationCidrBlock"] for r in routes] == ["172.16.0.0/16"]
