"""The one place where moto 5.2.5 is changed: every patched class and method, and why.

Each entry names a moto class, a method, what replaces it and the AWS behaviour it restores.
``install`` applies the table once per process; ``tests/localcloud/test_contract_ec2.py`` checks
every entry against the installed moto, so an upgrade that renames or removes a target fails
loudly instead of silently falling back to moto's behaviour.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from linkplane.localcloud.ec2 import cleanup, gateways, responses, vpn

Method = Callable[..., Any]

RESPONSE = "moto.ec2.responses.EC2Response"
TGW_BACKEND = "moto.ec2.models.transit_gateway.TransitGatewayBackend"
SUBNET_BACKEND = "moto.ec2.models.subnets.SubnetBackend"
VPC_BACKEND = "moto.ec2.models.vpcs.VPCBackend"
ATTACHMENT_BACKEND = "moto.ec2.models.transit_gateway_attachments.TransitGatewayAttachmentBackend"


@dataclass(frozen=True)
class Patch:
    target: str  # dotted path of the moto class
    name: str  # method on that class
    why: str
    replacement: Method | None = None  # replaces moto's method outright
    wrapper: Callable[[Method], Method] | None = None  # built around moto's method
    new: bool = False  # moto 5.2.5 lacks the action altogether

    def resolve(self) -> type:
        module, _, cls = self.target.rpartition(".")
        resolved: type = getattr(importlib.import_module(module), cls)
        return resolved


def _wrap_create_transit_gateway(original: Method) -> Method:
    def create_transit_gateway(self: Any, *args: Any, **kwargs: Any) -> Any:
        tgw = original(self, *args, **kwargs)
        gateways.fix_default_route_table(tgw)
        return tgw

    return create_transit_gateway


def _r(name: str, why: str, *, new: bool = False) -> Patch:
    return Patch(RESPONSE, name, why, replacement=getattr(responses, name), new=new)


PATCHES: tuple[Patch, ...] = (
    Patch(TGW_BACKEND, "create_transit_gateway", wrapper=_wrap_create_transit_gateway,
          why="AWS creates no default route table when default association and propagation "
              "are both disabled; moto always creates and advertises one."),
    _r("describe_transit_gateways", "A gateway shared through an accepted RAM share is visible "
       "to the other account; moto shows only the caller's own gateways."),
    _r("delete_transit_gateway", "AWS refuses to delete a gateway with non-deleted attachments."),
    _r("create_transit_gateway_vpc_attachment", "Cross-account attachments on a shared gateway, "
       "pendingAcceptance unless auto-accept, tags kept, default routing per the options."),
    _r("accept_transit_gateway_vpc_attachment", "Missing in moto: owner accepts.", new=True),
    _r("reject_transit_gateway_vpc_attachment", "Missing in moto: owner rejects.", new=True),
    _r("delete_transit_gateway_vpc_attachment", "AWS keeps the attachment listed as deleted, drops "
       "its association and propagations, and blackholes static routes to it."),
    _r("describe_transit_gateway_vpc_attachments", "Per-account views and AWS filters."),
    _r("describe_transit_gateway_attachments", "Per-account views (owner ids, association from "
       "the route tables) and AWS filters; moto ignored state/owner/id filters."),
    _r("associate_transit_gateway_route_table", "One association per attachment, owner only."),
    _r("disassociate_transit_gateway_route_table", "Works for default associations (moto: 500)."),
    _r("enable_transit_gateway_route_table_propagation", "Owner only; no peering propagation."),
    _r("disable_transit_gateway_route_table_propagation", "One record per propagation."),
    _r("get_transit_gateway_route_table_associations", "Rendered from the single record."),
    _r("get_transit_gateway_route_table_propagations", "Rendered from the single record."),
    _r("create_transit_gateway_route", "Static routes with derived state (blackhole when the "
       "attachment is gone) and their TransitGatewayAttachments."),
    _r("replace_transit_gateway_route", "Missing in moto.", new=True),
    _r("delete_transit_gateway_route", "InvalidRoute.NotFound instead of a 500."),
    _r("search_transit_gateway_routes", "TransitGatewayAttachments per route, propagated routes, "
       "MaxResults with AdditionalRoutesAvailable, all documented filters."),
    _r("create_vpn_connection", "Two tunnels in the description with the requested PSKs and "
       "inside CIDRs (validated as AWS does), VgwTelemetry and AWS/VPN metrics; the vpn "
       "attachment gets default routing like any attachment."),
    _r("describe_vpn_connections", "A new connection is pending until the next read, then "
       "available (AWS takes minutes; moto is available at once); a deleted one deleting."),
    _r("delete_vpn_connection", "The vpn attachment is deleted the AWS way (routing dropped); "
       "the connection is deleting until the next read."),
    _r("create_customer_gateway", "An identical request (type, IP, ASN, device name) returns "
       "the existing gateway, as AWS documents; moto made a new one each time."),
    _r("delete_customer_gateway", "AWS refuses to delete a gateway a live VPN connection uses."),
    Patch(ATTACHMENT_BACKEND, "create_transit_gateway_peering_attachment",
          wrapper=vpn.wrap_create_peering,
          why="The accepter's regional backend may not exist yet; AWS shows it the request."),
    Patch(ATTACHMENT_BACKEND, "accept_transit_gateway_peering_attachment",
          wrapper=vpn.wrap_accept_peering, why="Timestamps the state; default association."),
    Patch(ATTACHMENT_BACKEND, "reject_transit_gateway_peering_attachment",
          wrapper=vpn.wrap_reject_peering, why="Timestamps the state (retention window)."),
    Patch(ATTACHMENT_BACKEND, "delete_transit_gateway_peering_attachment",
          wrapper=vpn.wrap_delete_peering, why="Drops associations; blackholes static routes."),
    Patch(SUBNET_BACKEND, "delete_subnet", wrapper=cleanup.wrap_delete_subnet,
          why="The subnet's network ACL association goes with it (moto kept it forever)."),
    Patch("moto.ec2.models.subnets.Subnet", "_base_avail_ip_iterator",
          replacement=cleanup.subnet_hosts,
          why="moto's functools.cache on the method kept every subnet ever made in memory."),
    Patch(VPC_BACKEND, "delete_vpc", wrapper=cleanup.wrap_delete_vpc,
          why="The VPC's default network ACL goes with it (moto kept it forever)."),
)  # fmt: skip

#: moto's methods as found before patching, by (target, name); None where moto had none.
ORIGINALS: dict[tuple[str, str], Method | None] = {}
_lock = threading.Lock()


def _apply(patch: Patch) -> None:
    cls = patch.resolve()
    original = getattr(cls, patch.name, None)
    ORIGINALS[(patch.target, patch.name)] = original
    if patch.wrapper is not None:
        if original is None:
            raise RuntimeError(f"moto lacks {patch.target}.{patch.name}, which we wrap")
        setattr(cls, patch.name, patch.wrapper(original))
    else:
        setattr(cls, patch.name, patch.replacement)


def install() -> None:
    """Apply every patch once (idempotent, thread-safe)."""
    with _lock:
        if ORIGINALS:
            return
        for patch in PATCHES:
            _apply(patch)
