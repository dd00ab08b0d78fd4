"""Static and propagated routes of a TGW route table, and SearchTransitGatewayRoutes.

A static route stores only its destination and target; its state is derived, so a route to an
attachment that is deleted or rejected reads ``blackhole`` from then on, as AWS documents
("if the attachment is deleted, the static route becomes a blackhole route"). Propagated routes
are derived from the propagating attachments' current resources (a VPC's CIDR blocks) and are
shadowed by a static route to the same prefix (AWS: static routes take priority).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from linkplane.localcloud.ec2 import errors, model
from linkplane.localcloud.ec2.routing import owned_table


@dataclass
class StaticRoute:
    """Stored in ``table.routes[cidr]`` in place of moto's dict (moto never reads it back,
    because every TGW route action is ours)."""

    cidr: str
    attachment_id: str | None  # None: created with Blackhole=True


def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise errors.invalid_parameter(f"Invalid CIDR block {cidr}: {exc}") from exc


def _target(table: Any, attachment_id: str | None, blackhole: bool) -> str | None:
    if blackhole and attachment_id:
        raise errors.invalid_parameter("Specify either TransitGatewayAttachmentId or Blackhole.")
    if blackhole:
        return None
    if not attachment_id:
        raise errors.missing_parameter(
            "Either TransitGatewayAttachmentId or Blackhole is required."
        )
    attachment = table.ec2_backend.transit_gateway_attachments.get(attachment_id)
    if attachment is None or attachment.state in model.DOWN_STATES:
        raise errors.attachment_not_found(attachment_id)
    if table.transit_gateway_id not in model.tgw_ids(attachment):
        raise errors.invalid_parameter(
            f"{attachment_id} is not attached to {table.transit_gateway_id}."
        )
    return attachment_id


def _attachment_entry(table: Any, attachment: Any) -> dict[str, str]:
    resource = model.resource_of(attachment, table.transit_gateway_id)
    return {
        "TransitGatewayAttachmentId": attachment.id,
        "ResourceId": resource.id,
        "ResourceType": resource.type,
    }


def render_static(table: Any, route: StaticRoute) -> dict[str, Any]:
    attachment = None
    if route.attachment_id is not None:
        attachment = table.ec2_backend.transit_gateway_attachments.get(route.attachment_id)
    down = attachment is None or attachment.state in model.DOWN_STATES
    rendered: dict[str, Any] = {
        "DestinationCidrBlock": route.cidr,
        "Type": "static",
        "State": "blackhole" if down else "active",
        "TransitGatewayAttachments": [],
    }
    if attachment is not None:
        rendered["TransitGatewayAttachments"] = [_attachment_entry(table, attachment)]
    return rendered


def _static(table: Any) -> dict[str, StaticRoute]:
    return {cidr: r for cidr, r in table.routes.items() if isinstance(r, StaticRoute)}


def create(
    caller_backend: Any, route_table_id: str, cidr: str, attachment_id: str | None, blackhole: bool
) -> dict[str, Any]:
    table = owned_table(caller_backend, route_table_id)
    cidr = str(_network(cidr))
    if cidr in _static(table):
        raise errors.route_exists(cidr, route_table_id)
    route = StaticRoute(cidr, _target(table, attachment_id, blackhole))
    table.routes[cidr] = route
    return render_static(table, route)


def replace(
    caller_backend: Any, route_table_id: str, cidr: str, attachment_id: str | None, blackhole: bool
) -> dict[str, Any]:
    table = owned_table(caller_backend, route_table_id)
    cidr = str(_network(cidr))
    if cidr not in _static(table):
        raise errors.route_not_found(cidr, route_table_id)
    route = StaticRoute(cidr, _target(table, attachment_id, blackhole))
    table.routes[cidr] = route
    return render_static(table, route)


def delete(caller_backend: Any, route_table_id: str, cidr: str) -> dict[str, Any]:
    table = owned_table(caller_backend, route_table_id)
    route = _static(table).get(str(_network(cidr)))
    if route is None:
        raise errors.route_not_found(cidr, route_table_id)
    rendered = render_static(table, route)
    del table.routes[route.cidr]
    rendered["State"] = "deleted"
    return rendered


def _propagated_cidrs(attachment: Any) -> list[str]:
    """CIDRs an attachment propagates: a VPC's associated IPv4 CIDR blocks; a BGP VPN's
    learned prefixes (what :func:`linkplane.localcloud.ec2.vpn.advertise` says the customer's
    router advertises). Direct Connect is not simulated."""
    if attachment.state != "available":
        return []
    if attachment.resource_type == "vpn":
        from linkplane.localcloud.ec2.vpn import learned_cidrs

        return learned_cidrs(attachment.ec2_backend, attachment.resource_id)
    if attachment.resource_type != "vpc":
        return []
    vpc = attachment.ec2_backend.vpcs.get(attachment.vpc_id)
    if vpc is None:
        return []
    blocks = vpc.get_cidr_block_association_set(ipv6=False)
    return [b["cidr_block"] for b in blocks if b["cidr_block_state"]["state"] == "associated"]


def _propagated(table: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for propagation in table.route_table_propagation:
        attachment = table.ec2_backend.transit_gateway_attachments.get(
            propagation.transitGatewayAttachmentId
        )
        if attachment is None:
            continue
        for cidr in _propagated_cidrs(attachment):
            entry = found.setdefault(
                cidr,
                {"DestinationCidrBlock": cidr, "Type": "propagated", "State": "active",
                 "TransitGatewayAttachments": []},
            )  # fmt: skip
            entry["TransitGatewayAttachments"].append(_attachment_entry(table, attachment))
    if not _vpn_ecmp(table):
        for entry in found.values():
            entry["TransitGatewayAttachments"] = _one_vpn_path(entry["TransitGatewayAttachments"])
    return found


def _vpn_ecmp(table: Any) -> bool:
    """The gateway's ``VpnEcmpSupport`` (AWS and moto default: enable)."""
    tgw = table.ec2_backend.transit_gateways.get(table.transit_gateway_id)
    options = getattr(tgw, "options", None) or {}
    return str(options.get("VpnEcmpSupport", "enable")) == "enable"


def _one_vpn_path(entries: list[dict[str, str]]) -> list[dict[str, str]]:
    """Without ECMP, AWS uses one of several VPN attachments propagating the same prefix
    (the others stay as backups, not listed as targets): here the first one recorded."""
    vpns = [e for e in entries if e["ResourceType"] == "vpn"]
    return [e for e in entries if e["ResourceType"] != "vpn"] + vpns[:1]


def all_routes(table: Any) -> list[dict[str, Any]]:
    """Every route of the table, static first for a prefix, sorted by destination."""
    merged = _propagated(table)
    for cidr, route in _static(table).items():
        merged[cidr] = render_static(table, route)
    return [merged[cidr] for cidr in sorted(merged, key=_sort_key)]


def _sort_key(cidr: str) -> tuple[int, int, int]:
    net = _network(cidr)
    return (net.version, int(net.network_address), net.prefixlen)


def owned_routes(caller_backend: Any, route_table_id: str) -> list[dict[str, Any]]:
    return all_routes(owned_table(caller_backend, route_table_id))
