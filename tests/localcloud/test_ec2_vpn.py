"""Site-to-Site VPN on a Transit Gateway as the embedded cloud reports it: tunnel options,
customer gateways, ``VgwTelemetry`` and the ``AWS/VPN`` CloudWatch metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from linkplane.localcloud.ec2 import vpn as vpn_ext
from tests.localcloud.conftest import PROVIDER, Cloud
from tests.localcloud.test_ec2_support import client, error_code, make_tgw


def _connection(cloud: Cloud, tgw_id: str, **options: Any) -> dict[str, Any]:
    ec2 = client(cloud, "ec2", PROVIDER)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="198.51.100.7", BgpAsn=65010)
    created: dict[str, Any] = ec2.create_vpn_connection(
        Type="ipsec.1", CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
        TransitGatewayId=tgw_id, Options=options,
    )["VpnConnection"]  # fmt: skip
    return created


def test_requested_psks_and_inside_cidrs_are_the_tunnels_and_it_becomes_available(
    cloud: Cloud,
) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    tunnels = [{"PreSharedKey": "first.key_1", "TunnelInsideCidr": "169.254.100.0/30"},
               {"PreSharedKey": "second.key_2", "TunnelInsideCidr": "169.254.100.4/30"}]
    created = _connection(cloud, tgw_id, StaticRoutesOnly=False, TunnelOptions=tunnels)
    assert created["State"] == "pending"  # AWS takes minutes; the next read sees it settled
    ec2 = client(cloud, "ec2", PROVIDER)
    (found,) = ec2.describe_vpn_connections(VpnConnectionIds=[created["VpnConnectionId"]])[
        "VpnConnections"
    ]
    assert found["State"] == "available" and found["TransitGatewayId"] == tgw_id
    got = [(t["PreSharedKey"], t["TunnelInsideCidr"]) for t in found["Options"]["TunnelOptions"]]
    assert got == [("first.key_1", "169.254.100.0/30"), ("second.key_2", "169.254.100.4/30")]
    assert found["Options"]["StaticRoutesOnly"] is False
    assert {t["Status"] for t in found["VgwTelemetry"]} == {"DOWN"}


def test_generated_tunnel_options_follow_aws_rules(cloud: Cloud) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    created = _connection(cloud, tgw_id, StaticRoutesOnly=True)
    for tunnel in created["Options"]["TunnelOptions"]:
        assert vpn_ext.PSK_RE.match(tunnel["PreSharedKey"])
        assert vpn_ext.inside_cidr_problem(tunnel["TunnelInsideCidr"]) is None


@pytest.mark.parametrize("tunnel", [
    {"PreSharedKey": "0starts.with.zero"},
    {"PreSharedKey": "short"},
    {"PreSharedKey": "has-a-dash-in-it"},
    {"TunnelInsideCidr": "169.254.1.0/30"},  # reserved by AWS
    {"TunnelInsideCidr": "169.254.10.0/29"},  # not a /30
    {"TunnelInsideCidr": "10.0.0.0/30"},  # outside 169.254.0.0/16
])  # fmt: skip
def test_bad_tunnel_options_are_refused(cloud: Cloud, tunnel: dict[str, str]) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    with pytest.raises(ClientError) as exc:
        _connection(cloud, tgw_id, TunnelOptions=[tunnel])
    assert error_code(exc) == "InvalidParameterValue"


def test_an_inside_cidr_is_unique_per_gateway(cloud: Cloud) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    options = {"TunnelOptions": [{"TunnelInsideCidr": "169.254.200.0/30"}]}
    _connection(cloud, tgw_id, **options)
    with pytest.raises(ClientError) as exc:
        _connection(cloud, tgw_id, **options)
    assert error_code(exc) == "InvalidParameterValue"


def test_customer_gateway_is_idempotent_and_kept_while_in_use(cloud: Cloud) -> None:
    ec2 = client(cloud, "ec2", PROVIDER)
    args = {"Type": "ipsec.1", "PublicIp": "198.51.100.9", "BgpAsn": 65020, "DeviceName": "d1"}
    first = ec2.create_customer_gateway(**args)["CustomerGateway"]["CustomerGatewayId"]
    assert ec2.create_customer_gateway(**args)["CustomerGateway"]["CustomerGatewayId"] == first
    other = ec2.create_customer_gateway(**{**args, "DeviceName": "d2"})["CustomerGateway"]
    assert other["CustomerGatewayId"] != first
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    vpn_id = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=first,
                                       TransitGatewayId=tgw_id)["VpnConnection"]["VpnConnectionId"]
    with pytest.raises(ClientError) as exc:
        ec2.delete_customer_gateway(CustomerGatewayId=first)
    assert error_code(exc) == "IncorrectState"
    ec2.delete_vpn_connection(VpnConnectionId=vpn_id)
    with pytest.raises(ClientError) as exc:  # still deleting
        ec2.delete_customer_gateway(CustomerGatewayId=first)
    assert error_code(exc) == "IncorrectState"
    (gone,) = ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])["VpnConnections"]
    assert gone["State"] == "deleted"
    ec2.delete_customer_gateway(CustomerGatewayId=first)


def _metric(cloud: Cloud, vpn_id: str, ip: str, name: str, stat: str) -> list[float]:
    end = datetime.now(UTC) + timedelta(minutes=1)  # one period holding every data point
    cw = client(cloud, "cloudwatch", PROVIDER)
    dims = [{"Name": "VpnId", "Value": vpn_id}, {"Name": "TunnelIpAddress", "Value": ip}]
    (result,) = cw.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/VPN", "MetricName": name, "Dimensions": dims},
            "Period": 3600, "Stat": stat}}],
        StartTime=end - timedelta(hours=1), EndTime=end,
    )["MetricDataResults"]  # fmt: skip
    values: list[float] = result["Values"]
    return values


def test_tunnel_state_and_traffic_as_telemetry_and_cloudwatch_metrics(cloud: Cloud) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    created = _connection(cloud, tgw_id)
    vpn_id = created["VpnConnectionId"]
    up_ip, down_ip = (t["OutsideIpAddress"] for t in created["Options"]["TunnelOptions"])
    assert _metric(cloud, vpn_id, up_ip, "TunnelState", "Maximum") == [0.0]
    vpn_ext.set_tunnel_status(vpn_id, up_ip, "UP")
    vpn_ext.record_tunnel_traffic(vpn_id, up_ip, bytes_in=1000, bytes_out=250)
    vpn_ext.record_tunnel_traffic(vpn_id, up_ip, bytes_in=24, bytes_out=6)
    (found,) = client(cloud, "ec2", PROVIDER).describe_vpn_connections(
        VpnConnectionIds=[vpn_id])["VpnConnections"]  # fmt: skip
    status = {t["OutsideIpAddress"]: t["Status"] for t in found["VgwTelemetry"]}
    assert status == {up_ip: "UP", down_ip: "DOWN"}
    assert _metric(cloud, vpn_id, up_ip, "TunnelState", "Maximum") == [1.0]
    assert _metric(cloud, vpn_id, up_ip, "TunnelDataIn", "Sum") == [1024.0]
    assert _metric(cloud, vpn_id, up_ip, "TunnelDataOut", "Sum") == [256.0]
    assert _metric(cloud, vpn_id, down_ip, "TunnelState", "Maximum") == [0.0]
    with pytest.raises(ValueError):
        vpn_ext.set_tunnel_status(vpn_id, up_ip, "SIDEWAYS")


def test_bgp_advertised_prefixes_propagate_only_where_the_attachment_propagates(
    cloud: Cloud,
) -> None:
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    created = _connection(cloud, tgw_id, StaticRoutesOnly=False)
    vpn_id, up = created["VpnConnectionId"], created["Options"]["TunnelOptions"][0]
    ec2 = client(cloud, "ec2", PROVIDER)
    ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])  # available
    (att,) = ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-id", "Values": [vpn_id]}])["TransitGatewayAttachments"]  # fmt: skip
    table = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw_id)[
        "TransitGatewayRouteTable"]["TransitGatewayRouteTableId"]  # fmt: skip

    def propagated() -> list[str]:
        routes = ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=table, Filters=[
            {"Name": "type", "Values": ["propagated"]}])["Routes"]  # fmt: skip
        return [r["DestinationCidrBlock"] for r in routes]

    vpn_ext.advertise(vpn_id, ["172.31.5.0/24"])
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=table,
        TransitGatewayAttachmentId=att["TransitGatewayAttachmentId"])  # fmt: skip
    assert propagated() == []  # no tunnel up: no BGP session
    vpn_ext.set_tunnel_status(vpn_id, up["OutsideIpAddress"], "UP")
    assert propagated() == ["172.31.5.0/24"]
    static = _connection(cloud, tgw_id, StaticRoutesOnly=True)
    with pytest.raises(ValueError):
        vpn_ext.advertise(static["VpnConnectionId"], ["172.31.6.0/24"])
