"""Associations, propagations and static routes of TGW route tables: one record per fact.

moto 5.2.5 keeps an attachment's association in three places that drift apart (the attachment,
the route table, a backend dict), so re-association is reported wrongly and disassociating a
default association fails. Here the route table's ``route_table_associations`` and
``route_table_propagation`` are the only records; every view is derived from them.

AWS rules enforced (Transit Gateway guide, "Route tables"; API reference):
- only the gateway owner sees its route tables, so only it can associate, propagate or route;
- an attachment is associated with at most one route table (``Resource.AlreadyAssociated``);
- the attachment must be ``available`` to be associated or to propagate (``IncorrectState``);
- peering attachments do not propagate routes (static routes only).
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models.transit_gateway_route_tables import (
    RouteTableAssociation,
    RouteTablePropagation,
)

from linkplane.localcloud.ec2 import errors, model
from linkplane.localcloud.ec2.backends import existing_backends


def owned_table(caller_backend: Any, route_table_id: str) -> Any:
    """The caller's own, non-deleted route table (another account's is "not found" in AWS)."""
    table = caller_backend.transit_gateways_route_tables.get(route_table_id)
    if table is None or table.state == "deleted":
        raise errors.route_table_not_found(route_table_id)
    return table


def listed_attachment(caller_backend: Any, attachment_id: str) -> Any:
    attachment = caller_backend.transit_gateway_attachments.get(attachment_id)
    if attachment is None or not model.is_listed(attachment):
        raise errors.attachment_not_found(attachment_id)
    return attachment


def _attachment_on_table(caller_backend: Any, attachment_id: str, table: Any) -> Any:
    attachment = listed_attachment(caller_backend, attachment_id)
    if table.transit_gateway_id not in model.tgw_ids(attachment):
        raise errors.invalid_parameter(
            f"{attachment_id} and {table.id} belong to different transit gateways."
        )
    return attachment


def _require_available(attachment: Any, action: str) -> None:
    if attachment.state != "available":
        raise errors.incorrect_state(
            f"Cannot {action} {attachment.id}: the attachment is in state {attachment.state}."
        )


def tables_of(backend: Any, tgw_id: str) -> list[Any]:
    return [
        table
        for table in backend.transit_gateways_route_tables.values()
        if table.transit_gateway_id == tgw_id and table.state != "deleted"
    ]


def associated_table(backend: Any, attachment_id: str, tgw_id: str) -> Any | None:
    """The table of ``tgw_id`` (in its owner's ``backend``) the attachment is associated with."""
    for table in tables_of(backend, tgw_id):
        if attachment_id in table.route_table_associations:
            return table
    return None


def relation(table: Any, attachment: Any, state: str) -> dict[str, str]:
    """A TransitGatewayAssociation / TransitGatewayPropagation as the API returns it."""
    resource = model.resource_of(attachment, table.transit_gateway_id)
    return {
        "TransitGatewayAttachmentId": attachment.id,
        "TransitGatewayRouteTableId": table.id,
        "ResourceId": resource.id,
        "ResourceType": resource.type,
        "State": state,
    }


def record_association(table: Any, attachment: Any) -> None:
    resource = model.resource_of(attachment, table.transit_gateway_id)
    table.route_table_associations[attachment.id] = RouteTableAssociation(
        resource_id=resource.id,
        resource_type=resource.type,
        state="associated",
        transit_gateway_attachment_id=attachment.id,
    )


def record_propagation(table: Any, attachment: Any) -> None:
    resource = model.resource_of(attachment, table.transit_gateway_id)
    table.route_table_propagation.append(
        RouteTablePropagation(
            resource_id=resource.id,
            resource_type=resource.type,
            state="enabled",
            transit_gateway_attachment_id=attachment.id,
        )
    )


def _propagation_index(table: Any, attachment_id: str) -> int | None:
    for index, propagation in enumerate(table.route_table_propagation):
        if propagation.transitGatewayAttachmentId == attachment_id:
            return index
    return None


def associate(caller_backend: Any, attachment_id: str, route_table_id: str) -> dict[str, str]:
    table = owned_table(caller_backend, route_table_id)
    attachment = _attachment_on_table(caller_backend, attachment_id, table)
    _require_available(attachment, "associate")
    if associated_table(caller_backend, attachment_id, table.transit_gateway_id) is not None:
        raise errors.already_associated(attachment_id)
    record_association(table, attachment)
    # AWS answers while the change is in flight; the next read shows "associated".
    return relation(table, attachment, "associating")


def disassociate(caller_backend: Any, attachment_id: str, route_table_id: str) -> dict[str, str]:
    table = owned_table(caller_backend, route_table_id)
    attachment = _attachment_on_table(caller_backend, attachment_id, table)
    if table.route_table_associations.pop(attachment_id, None) is None:
        raise errors.association_not_found(attachment_id, route_table_id)
    return relation(table, attachment, "disassociating")


def enable_propagation(
    caller_backend: Any, attachment_id: str, route_table_id: str
) -> dict[str, str]:
    table = owned_table(caller_backend, route_table_id)
    attachment = _attachment_on_table(caller_backend, attachment_id, table)
    if model.is_peering(attachment):
        raise errors.invalid_parameter(
            f"{attachment_id} is a peering attachment: peering attachments do not propagate routes."
        )
    _require_available(attachment, "enable propagation for")
    if _propagation_index(table, attachment_id) is not None:
        raise errors.propagation_exists(attachment_id, route_table_id)
    record_propagation(table, attachment)
    return relation(table, attachment, "enabling")


def disable_propagation(
    caller_backend: Any, attachment_id: str, route_table_id: str
) -> dict[str, str]:
    table = owned_table(caller_backend, route_table_id)
    attachment = _attachment_on_table(caller_backend, attachment_id, table)
    index = _propagation_index(table, attachment_id)
    if index is None:
        raise errors.propagation_not_found(attachment_id, route_table_id)
    del table.route_table_propagation[index]
    return relation(table, attachment, "disabling")


def forget_attachment(attachment_id: str) -> None:
    """Drop the attachment's associations and propagations from every gateway's tables, as AWS
    does when an attachment is deleted or rejected. Static routes stay and turn blackhole."""
    for backend in existing_backends():
        for table in backend.transit_gateways_route_tables.values():
            table.route_table_associations.pop(attachment_id, None)
            index = _propagation_index(table, attachment_id)
            while index is not None:
                del table.route_table_propagation[index]
                index = _propagation_index(table, attachment_id)
