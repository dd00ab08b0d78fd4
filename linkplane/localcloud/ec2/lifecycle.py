"""The life of a VPC attachment across the two accounts of a shared Transit Gateway.

AWS Transit Gateway guide, "Transit gateway attachments to a VPC" and "Share a transit gateway":
- an attachment created by another account on a shared gateway whose
  ``AutoAcceptSharedAttachments`` is disabled starts ``pendingAcceptance`` for both accounts;
  the gateway owner accepts (``pending`` -> ``available``) or rejects (``rejected``);
- an attachment created by the gateway owner, or with auto-accept enabled, needs no acceptance
  (``pending`` -> ``available``);
- once available it is associated with / propagated to the default route table if, and only
  if, the gateway's default association / propagation options are enabled;
- deleted, rejected and failed attachments stay listed for a while in their final state.

Transitional states are reported in the answer of the call that starts them and the next read
shows the settled state: deterministic for tests, and the same sequence a poller sees on AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moto.ec2.models.transit_gateway_attachments import TransitGatewayVpcAttachment

from linkplane.localcloud.ec2 import cleanup, errors, filters, model, routing, views
from linkplane.localcloud.ec2.backends import tgw_by_id, visible_tgw

Item = dict[str, Any]


def apply_defaults(attachment: Any, tgw: Any) -> None:
    """Default association/propagation of an attachment that just became available."""
    options, tables = tgw.options, tgw.ec2_backend.transit_gateways_route_tables
    if options.get("DefaultRouteTableAssociation") == "enable":
        table = tables.get(options.get("AssociationDefaultRouteTableId", ""))
        has_one = routing.associated_table(tgw.ec2_backend, attachment.id, tgw.id) is not None
        if table is not None and not has_one:
            routing.record_association(table, attachment)
    # Peering attachments never propagate (static routes only).
    if options.get("DefaultRouteTablePropagation") == "enable" and not model.is_peering(attachment):
        table = tables.get(options.get("PropagationDefaultRouteTableId", ""))
        if table is not None:
            routing.record_propagation(table, attachment)


def _check_subnets(caller_backend: Any, vpc_id: str, subnet_ids: Sequence[str]) -> None:
    if not subnet_ids:
        raise errors.missing_parameter("The request must contain the parameter SubnetIds.")
    zones: set[str] = set()
    for subnet_id in subnet_ids:
        subnet = caller_backend.get_subnet(subnet_id)  # moto raises InvalidSubnetID.NotFound
        if subnet.vpc_id != vpc_id:
            raise errors.invalid_parameter(f"Subnet {subnet_id} does not belong to {vpc_id}.")
        if subnet.availability_zone in zones:
            raise errors.invalid_parameter(
                f"More than one subnet in {subnet.availability_zone}: {list(subnet_ids)}."
            )
        zones.add(subnet.availability_zone)


def _check_no_duplicate(tgw: Any, vpc_id: str) -> None:
    for other in tgw.ec2_backend.transit_gateway_attachments.values():
        same = other.resource_type == "vpc" and other.transit_gateway_id == tgw.id
        if same and other.resource_id == vpc_id and other.state not in model.TERMINAL_STATES:
            raise errors.duplicate_attachment(tgw.id, vpc_id)


def create_vpc_attachment(
    caller_backend: Any,
    tgw_id: str,
    vpc_id: str,
    subnet_ids: Sequence[str],
    tags: Mapping[str, str],
    options: Mapping[str, str],
) -> tuple[Any, str]:
    """Create the attachment; returns it and the state the create call reports."""
    tgw = visible_tgw(caller_backend.account_id, caller_backend.region_name, tgw_id)
    if tgw.state != "available":
        raise errors.incorrect_state(f"{tgw_id} is in state {tgw.state}.")
    caller_backend.get_vpc(vpc_id)  # moto raises InvalidVpcID.NotFound
    _check_subnets(caller_backend, vpc_id, subnet_ids)
    for backend in {id(b): b for b in (tgw.ec2_backend, caller_backend)}.values():
        cleanup.forget_expired_attachments(backend)  # churn must not grow the cloud
    _check_no_duplicate(tgw, vpc_id)
    attachment = TransitGatewayVpcAttachment(
        caller_backend, transit_gateway=tgw, vpc_id=vpc_id, subnet_ids=list(subnet_ids),
        tags=dict(tags), options=dict(options),
    )  # fmt: skip
    attachment.lp_tgw_owner_id = tgw.owner_id
    tgw.ec2_backend.transit_gateway_attachments[attachment.id] = attachment
    caller_backend.transit_gateway_attachments[attachment.id] = attachment
    cross_account = caller_backend.account_id != tgw.owner_id
    if cross_account and tgw.options.get("AutoAcceptSharedAttachments") != "enable":
        model.set_state(attachment, "pendingAcceptance")
        return attachment, "pendingAcceptance"
    model.set_state(attachment, "available")
    apply_defaults(attachment, tgw)
    return attachment, "pending"


def _owned_vpc_attachment(caller_backend: Any, attachment_id: str, action: str) -> Any:
    """A VPC attachment on a gateway the caller owns, in ``pendingAcceptance``."""
    attachment = routing.listed_attachment(caller_backend, attachment_id)
    if attachment.resource_type != "vpc":
        raise errors.invalid_parameter(f"{attachment_id} is not a VPC attachment.")
    if model.tgw_owner_of(attachment, attachment.transit_gateway_id) != caller_backend.account_id:
        raise errors.unauthorized(
            f"Only the owner of {attachment.transit_gateway_id} can {action} it."
        )
    if attachment.state != "pendingAcceptance":
        raise errors.incorrect_state(
            f"{attachment_id} is {attachment.state}; only pendingAcceptance can be {action}ed."
        )
    return attachment


def accept(caller_backend: Any, attachment_id: str) -> tuple[Any, str]:
    attachment = _owned_vpc_attachment(caller_backend, attachment_id, "accept")
    model.set_state(attachment, "available")
    tgw = tgw_by_id(attachment.transit_gateway_id)
    if tgw is not None:
        apply_defaults(attachment, tgw)
    return attachment, "pending"


def reject(caller_backend: Any, attachment_id: str) -> tuple[Any, str]:
    attachment = _owned_vpc_attachment(caller_backend, attachment_id, "reject")
    model.set_state(attachment, "rejected")
    return attachment, "rejecting"


def retire(attachment: Any) -> None:
    """Final deletion: routing forgets the attachment; static routes to it turn blackhole."""
    model.set_state(attachment, "deleted")
    routing.forget_attachment(attachment.id)


def delete_vpc_attachment(caller_backend: Any, attachment_id: str) -> tuple[Any, str]:
    """Either the VPC owner or the gateway owner may delete a VPC attachment."""
    attachment = routing.listed_attachment(caller_backend, attachment_id)
    if attachment.resource_type != "vpc":
        raise errors.invalid_parameter(f"{attachment_id} is not a VPC attachment.")
    if attachment.state in model.TERMINAL_STATES:
        raise errors.incorrect_state(f"{attachment_id} is in state {attachment.state}.")
    retire(attachment)
    return attachment, "deleting"


def _listed(viewer_backend: Any, ids: Sequence[str]) -> list[Any]:
    listed = [a for a in viewer_backend.transit_gateway_attachments.values() if model.is_listed(a)]
    if ids:
        known = {a.id for a in listed}
        for attachment_id in ids:
            if attachment_id not in known:
                raise errors.attachment_not_found(attachment_id)
        listed = [a for a in listed if a.id in ids]
    return sorted(listed, key=lambda a: a._created_at)


def describe_attachments(
    viewer_backend: Any, ids: Sequence[str], wanted: Mapping[str, Sequence[str]]
) -> list[Item]:
    rendered = [views.attachment(a, viewer_backend) for a in _listed(viewer_backend, ids)]
    return filters.apply(rendered, wanted, views.ATTACHMENT_FIELDS)


def describe_vpc_attachments(
    viewer_backend: Any, ids: Sequence[str], wanted: Mapping[str, Sequence[str]]
) -> list[Item]:
    vpcs = [a for a in _listed(viewer_backend, ids) if a.resource_type == "vpc"]
    general = [views.attachment(a, viewer_backend) for a in vpcs]
    kept = {
        v["TransitGatewayAttachmentId"]
        for v in filters.apply(general, wanted, views.ATTACHMENT_FIELDS)
    }
    return [views.vpc_attachment(a, viewer_backend) for a in vpcs if a.id in kept]
