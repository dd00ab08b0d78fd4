"""API shapes of gateways and attachments as one account sees them.

AWS shows a shared resource differently to each account: the TGW owner and the VPC owner see the
same attachment, each with its own tags (tags are not shared between accounts), and the two
sides of a peering each see their own gateway as ``TransitGatewayId``. moto renders one object
the same way for everyone, so the extension renders these dicts itself, keyed like the botocore
shapes (``TransitGateway``, ``TransitGatewayAttachment``, ``TransitGatewayVpcAttachment``).
"""

from __future__ import annotations

from typing import Any

from linkplane.localcloud.ec2 import filters, model, routing
from linkplane.localcloud.ec2.backends import tgw_by_id

Item = dict[str, Any]


def tags_of(viewer_backend: Any, resource_id: str) -> list[dict[str, str]]:
    """Tags the viewing account put on the resource (moto's per-backend tag store)."""
    return [{"Key": k, "Value": v} for k, v in viewer_backend.tags.get(resource_id, {}).items()]


def gateway(tgw: Any, viewer_backend: Any) -> Item:
    return {
        "TransitGatewayId": tgw.id,
        "TransitGatewayArn": tgw.arn,
        "State": tgw.state,
        "OwnerId": tgw.owner_id,
        "Description": tgw.description,
        "CreationTime": tgw.creation_time,
        "Options": dict(tgw.options),
        "Tags": tags_of(viewer_backend, tgw.id),
    }


GATEWAY_FIELDS: dict[str, filters.Field] = {
    "transit-gateway-id": filters.key("TransitGatewayId"),
    "state": filters.key("State"),
    "owner-id": filters.key("OwnerId"),
    "options.amazon-side-asn": filters.nested("Options", "AmazonSideAsn"),
    "options.auto-accept-shared-attachments": filters.nested(
        "Options", "AutoAcceptSharedAttachments"
    ),
    "options.default-route-table-association": filters.nested(
        "Options", "DefaultRouteTableAssociation"
    ),
    "options.default-route-table-propagation": filters.nested(
        "Options", "DefaultRouteTablePropagation"
    ),
    "options.association-default-route-table-id": filters.nested(
        "Options", "AssociationDefaultRouteTableId"
    ),
    "options.propagation-default-route-table-id": filters.nested(
        "Options", "PropagationDefaultRouteTableId"
    ),
}


def association(attachment: Any, tgw_id: str) -> Item | None:
    """The attachment's association on ``tgw_id``, from the owner's route tables (the only
    record), shown to every account that sees the attachment."""
    tgw = tgw_by_id(tgw_id)
    if tgw is None:
        return None
    table = routing.associated_table(tgw.ec2_backend, attachment.id, tgw_id)
    if table is None:
        return None
    return {"TransitGatewayRouteTableId": table.id, "State": "associated"}


def attachment(att: Any, viewer_backend: Any) -> Item:
    tgw_id = model.tgw_id_for(att, viewer_backend.account_id, viewer_backend.region_name)
    resource = model.resource_of(att, tgw_id)
    view: Item = {
        "TransitGatewayAttachmentId": att.id,
        "TransitGatewayId": tgw_id,
        "TransitGatewayOwnerId": model.tgw_owner_of(att, tgw_id),
        "ResourceOwnerId": resource.owner_id,
        "ResourceType": resource.type,
        "ResourceId": resource.id,
        "State": att.state,
        "CreationTime": att.create_time,
        "Tags": tags_of(viewer_backend, att.id),
    }
    found = association(att, tgw_id)
    if found is not None:
        view["Association"] = found
    return view


def vpc_attachment(att: Any, viewer_backend: Any) -> Item:
    return {
        "TransitGatewayAttachmentId": att.id,
        "TransitGatewayId": att.transit_gateway_id,
        "VpcId": att.vpc_id,
        "VpcOwnerId": att.resource_owner_id,
        "State": att.state,
        "SubnetIds": list(att.subnet_ids),
        "CreationTime": att.create_time,
        "Options": dict(att.options),
        "Tags": tags_of(viewer_backend, att.id),
    }


def _vpc_id(item: Item) -> list[str]:
    return [item["ResourceId"]] if item["ResourceType"] == "vpc" else []


# Filters of DescribeTransitGatewayAttachments (a superset of the VPC attachments' ones).
ATTACHMENT_FIELDS: dict[str, filters.Field] = {
    "state": filters.key("State"),
    "transit-gateway-attachment-id": filters.key("TransitGatewayAttachmentId"),
    "transit-gateway-id": filters.key("TransitGatewayId"),
    "transit-gateway-owner-id": filters.key("TransitGatewayOwnerId"),
    "resource-owner-id": filters.key("ResourceOwnerId"),
    "resource-type": filters.key("ResourceType"),
    "resource-id": filters.key("ResourceId"),
    "vpc-id": _vpc_id,
    "association.transit-gateway-route-table-id": filters.nested(
        "Association", "TransitGatewayRouteTableId"
    ),
    "association.state": filters.nested("Association", "State"),
}
