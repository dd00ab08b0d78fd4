"""EC2 API actions the extension answers, installed as methods of moto's ``EC2Response``.

moto dispatches an action to the response method of the same snake_case name
(``BaseResponse.call_action``), so each function here replaces or adds one action. They only
parse parameters, call the model functions of this package and render: the rules live in
``lifecycle``, ``routing``, ``routes`` and ``gateways``. Every one runs under the extension lock.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult

from linkplane.localcloud.ec2 import gateways, lifecycle, routes, routing, views, vpn
from linkplane.localcloud.ec2.backends import locked
from linkplane.localcloud.ec2.filters import apply, apply_route_search, key

Item = dict[str, Any]


def _flag(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _tags(self: Any, resource_type: str) -> dict[str, str]:
    """Tags of ``TagSpecifications`` entries for ``resource_type`` (moto read the wrong type
    for VPC attachments and dropped them)."""
    specs = self._get_param("TagSpecifications", []) or []
    return {
        tag["Key"]: tag.get("Value", "")
        for spec in specs
        if spec.get("ResourceType") == resource_type
        for tag in spec.get("Tags", [])
    }


def _ids(self: Any, name: str) -> list[str]:
    return list(self._get_param(name, []) or [])


# --- gateways ---------------------------------------------------------------------------------


@locked
def describe_transit_gateways(self: Any) -> ActionResult:
    found = gateways.describe(
        self.ec2_backend, _ids(self, "TransitGatewayIds"), self._filters_from_querystring()
    )
    return ActionResult({"TransitGateways": found})


@locked
def delete_transit_gateway(self: Any) -> ActionResult:
    tgw_id = self._get_param("TransitGatewayId")
    gateways.check_deletable(self.ec2_backend, tgw_id)
    tgw = self.ec2_backend.delete_transit_gateway(tgw_id)
    rendered = views.gateway(tgw, self.ec2_backend)
    rendered["State"] = "deleting"
    return ActionResult({"TransitGateway": rendered})


# --- VPC attachments --------------------------------------------------------------------------


def _vpc_result(self: Any, attachment: Any, state: str) -> ActionResult:
    rendered = views.vpc_attachment(attachment, self.ec2_backend)
    rendered["State"] = state
    return ActionResult({"TransitGatewayVpcAttachment": rendered})


@locked
def create_transit_gateway_vpc_attachment(self: Any) -> ActionResult:
    attachment, state = lifecycle.create_vpc_attachment(
        self.ec2_backend,
        tgw_id=self._get_param("TransitGatewayId"),
        vpc_id=self._get_param("VpcId"),
        subnet_ids=_ids(self, "SubnetIds"),
        tags=_tags(self, "transit-gateway-attachment"),
        options=self._get_param("Options", {}) or {},
    )
    return _vpc_result(self, attachment, state)


@locked
def accept_transit_gateway_vpc_attachment(self: Any) -> ActionResult:
    attachment, state = lifecycle.accept(
        self.ec2_backend, self._get_param("TransitGatewayAttachmentId")
    )
    return _vpc_result(self, attachment, state)


@locked
def reject_transit_gateway_vpc_attachment(self: Any) -> ActionResult:
    attachment, state = lifecycle.reject(
        self.ec2_backend, self._get_param("TransitGatewayAttachmentId")
    )
    return _vpc_result(self, attachment, state)


@locked
def delete_transit_gateway_vpc_attachment(self: Any) -> ActionResult:
    attachment, state = lifecycle.delete_vpc_attachment(
        self.ec2_backend, self._get_param("TransitGatewayAttachmentId")
    )
    return _vpc_result(self, attachment, state)


@locked
def describe_transit_gateway_vpc_attachments(self: Any) -> ActionResult:
    found = lifecycle.describe_vpc_attachments(
        self.ec2_backend,
        _ids(self, "TransitGatewayAttachmentIds"),
        self._filters_from_querystring(),
    )
    return ActionResult({"TransitGatewayVpcAttachments": found})


@locked
def describe_transit_gateway_attachments(self: Any) -> ActionResult:
    found = lifecycle.describe_attachments(
        self.ec2_backend,
        _ids(self, "TransitGatewayAttachmentIds"),
        self._filters_from_querystring(),
    )
    return ActionResult({"TransitGatewayAttachments": found})


# --- associations and propagations ------------------------------------------------------------


def _pair(self: Any) -> tuple[str, str]:
    return self._get_param("TransitGatewayAttachmentId"), self._get_param(
        "TransitGatewayRouteTableId"
    )


@locked
def associate_transit_gateway_route_table(self: Any) -> ActionResult:
    return ActionResult({"Association": routing.associate(self.ec2_backend, *_pair(self))})


@locked
def disassociate_transit_gateway_route_table(self: Any) -> ActionResult:
    return ActionResult({"Association": routing.disassociate(self.ec2_backend, *_pair(self))})


@locked
def enable_transit_gateway_route_table_propagation(self: Any) -> ActionResult:
    return ActionResult({"Propagation": routing.enable_propagation(self.ec2_backend, *_pair(self))})


@locked
def disable_transit_gateway_route_table_propagation(self: Any) -> ActionResult:
    return ActionResult(
        {"Propagation": routing.disable_propagation(self.ec2_backend, *_pair(self))}
    )


_RELATION_FIELDS = {
    "resource-id": key("ResourceId"),
    "resource-type": key("ResourceType"),
    "transit-gateway-attachment-id": key("TransitGatewayAttachmentId"),
    "state": key("State"),
}


def _relations(self: Any, records: Any) -> list[Item]:
    rendered = [
        {"TransitGatewayAttachmentId": r.transitGatewayAttachmentId, "ResourceId": r.resourceId,
         "ResourceType": r.resourceType, "State": r.state}
        for r in records
    ]  # fmt: skip
    return apply(rendered, self._filters_from_querystring(), _RELATION_FIELDS)


@locked
def get_transit_gateway_route_table_associations(self: Any) -> ActionResult:
    table = routing.owned_table(self.ec2_backend, self._get_param("TransitGatewayRouteTableId"))
    found = _relations(self, table.route_table_associations.values())
    return ActionResult({"Associations": found})


@locked
def get_transit_gateway_route_table_propagations(self: Any) -> ActionResult:
    table = routing.owned_table(self.ec2_backend, self._get_param("TransitGatewayRouteTableId"))
    found = _relations(self, table.route_table_propagation)
    return ActionResult({"TransitGatewayRouteTablePropagations": found})


# --- routes -----------------------------------------------------------------------------------


def _route_args(self: Any) -> tuple[str, str, str | None, bool]:
    return (
        self._get_param("TransitGatewayRouteTableId"),
        self._get_param("DestinationCidrBlock"),
        self._get_param("TransitGatewayAttachmentId"),
        _flag(self._get_param("Blackhole", False)),
    )


@locked
def create_transit_gateway_route(self: Any) -> ActionResult:
    return ActionResult({"Route": routes.create(self.ec2_backend, *_route_args(self))})


@locked
def replace_transit_gateway_route(self: Any) -> ActionResult:
    return ActionResult({"Route": routes.replace(self.ec2_backend, *_route_args(self))})


@locked
def delete_transit_gateway_route(self: Any) -> ActionResult:
    table_id, cidr = (
        self._get_param("TransitGatewayRouteTableId"),
        self._get_param("DestinationCidrBlock"),
    )
    return ActionResult({"Route": routes.delete(self.ec2_backend, table_id, cidr)})


@locked
def search_transit_gateway_routes(self: Any) -> ActionResult:
    found = routes.owned_routes(self.ec2_backend, self._get_param("TransitGatewayRouteTableId"))
    found = apply_route_search(found, self._filters_from_querystring())
    limit = int(self._get_param("MaxResults") or 1000)
    return ActionResult({"Routes": found[:limit], "AdditionalRoutesAvailable": len(found) > limit})


# --- VPN --------------------------------------------------------------------------------------


@locked
def create_vpn_connection(self: Any) -> ActionResult:
    backend = self.ec2_backend
    options = self._get_param("Options", {}) or {}
    tgw_id = self._get_param("TransitGatewayId")
    vpn.check_tunnel_options(backend, tgw_id, options)
    connection = backend.create_vpn_connection(
        self._get_param("Type"),
        self._get_param("CustomerGatewayId"),
        vpn_gateway_id=self._get_param("VpnGatewayId"),
        transit_gateway_id=tgw_id,
        tags=_tags(self, "vpn-connection"),
    )
    vpn.describe_tunnels(connection, options)
    if connection.transit_gateway_id:
        vpn.attach(backend, connection)
    return ActionResult({"VpnConnection": connection})


@locked
def describe_vpn_connections(self: Any) -> ActionResult:
    found = self.ec2_backend.describe_vpn_connections(
        vpn_connection_ids=_ids(self, "VpnConnectionIds"),
        filters=self._filters_from_querystring(),
    )
    for connection in found:
        vpn.settle(connection)
    return ActionResult({"VpnConnections": found})


@locked
def delete_vpn_connection(self: Any) -> EmptyResult:
    connection = self.ec2_backend.delete_vpn_connection(self._get_param("VpnConnectionId"))
    connection.state = "deleting"  # AWS: deleted a while later (the next read here)
    vpn.retire_vpn_attachments(self.ec2_backend, connection.id)
    return EmptyResult()


@locked
def create_customer_gateway(self: Any) -> ActionResult:
    backend = self.ec2_backend
    kind = self._get_param("Type") or "ipsec.1"
    ip = self._get_param("IpAddress") or self._get_param("PublicIp")
    asn, device = str(self._get_param("BgpAsn") or "65000"), self._get_param("DeviceName") or ""
    found = vpn.same_customer_gateway(backend, kind, ip, asn, device)
    if found is None:
        found = backend.create_customer_gateway(kind, ip_address=ip, bgp_asn=asn,
                                                tags=_tags(self, "customer-gateway"))  # fmt: skip
        found.device_name = device
    return ActionResult({"CustomerGateway": found})


@locked
def delete_customer_gateway(self: Any) -> EmptyResult:
    cgw_id = self._get_param("CustomerGatewayId")
    vpn.check_customer_gateway_unused(self.ec2_backend, cgw_id)
    self.ec2_backend.delete_customer_gateway(cgw_id)
    return EmptyResult()
