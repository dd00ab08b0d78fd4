"""Site-to-Site VPN connections on a Transit Gateway, and TGW peering across regions.

VPN: AWS gives every VPN connection two tunnels (outside IP, inside /30 from 169.254.0.0/16,
pre-shared key) and reports them in ``Options.TunnelOptions`` and ``VgwTelemetry``; moto 5.2.5
reports neither. A VPN on a gateway also creates a ``vpn`` attachment, which is subject to the
gateway's default association/propagation like any other.

Peering: moto links a peering attachment into the accepter's backend only if that backend
already exists, and never timestamps or un-routes it; AWS keeps the state sequence
pendingAcceptance -> available (or rejected / deleted) with static routes only.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

from linkplane.localcloud.ec2 import lifecycle, model
from linkplane.localcloud.ec2.backends import backend_of, tgw_by_id

_PSK_ALPHABET = string.ascii_letters + string.digits + "._"


def _tunnel(index: int, seed: int) -> dict[str, Any]:
    inside_base = 4 * ((seed * 2 + index) % 16000)  # distinct /30s per connection and tunnel
    return {
        # 203.0.113.0/24 (TEST-NET-3): documentation addresses, never routable.
        "OutsideIpAddress": f"203.0.113.{(seed * 2 + index) % 250 + 1}",
        "TunnelInsideCidr": f"169.254.{inside_base // 256}.{inside_base % 256}/30",
        "PreSharedKey": "".join(secrets.choice(_PSK_ALPHABET) for _ in range(32)),
    }


def describe_tunnels(vpn: Any, options: Mapping[str, Any]) -> None:
    """Give the moto VPN connection the two tunnels and options AWS reports."""
    seed = int(vpn.id.split("-")[-1][-6:], 16)
    tunnels = [_tunnel(i, seed) for i in range(2)]
    vpn.category = "VPN"
    vpn.options = {
        "StaticRoutesOnly": bool(options.get("StaticRoutesOnly", False)),
        "TunnelInsideIpVersion": "ipv4",
        "TunnelOptions": tunnels,
    }
    vpn.vgw_telemetry = [
        {"OutsideIpAddress": t["OutsideIpAddress"], "Status": "DOWN", "AcceptedRouteCount": 0,
         "StatusMessage": ""}
        for t in tunnels
    ]  # fmt: skip
    vpn.routes = []


def attach(backend: Any, vpn: Any) -> Any:
    """The ``vpn`` attachment of a VPN connection on a gateway, with default routing applied."""
    attachment = backend.create_transit_gateway_vpn_attachment(
        vpn_id=vpn.id, transit_gateway_id=vpn.transit_gateway_id
    )
    model.set_state(attachment, "available")
    lifecycle.apply_defaults(attachment, backend.transit_gateways[vpn.transit_gateway_id])
    return attachment


def retire_vpn_attachments(backend: Any, vpn_id: str) -> None:
    for attachment in list(backend.transit_gateway_attachments.values()):
        if attachment.resource_id == vpn_id and attachment.state not in model.TERMINAL_STATES:
            lifecycle.retire(attachment)


# --- peering: wrappers around moto's model methods --------------------------------------------

Method = Callable[..., Any]


def wrap_create_peering(original: Method) -> Method:
    def create(self: Any, transit_gateway_id: str, peer_transit_gateway_id: str,
               peer_region: str, peer_account_id: str, tags: Any) -> Any:  # fmt: skip
        backend_of(peer_account_id, peer_region)  # the accepter must see it even if new
        attachment = original(
            self, transit_gateway_id, peer_transit_gateway_id, peer_region, peer_account_id, tags
        )
        model.set_state(attachment, attachment.state)
        return attachment

    return create


def wrap_accept_peering(original: Method) -> Method:
    def accept(self: Any, transit_gateway_attachment_id: str) -> Any:
        attachment = original(self, transit_gateway_attachment_id)
        model.set_state(attachment, "available")
        for tgw_id in model.tgw_ids(attachment):
            tgw = tgw_by_id(tgw_id)
            if tgw is not None:
                lifecycle.apply_defaults(attachment, tgw)
        return attachment

    return accept


def wrap_reject_peering(original: Method) -> Method:
    def reject(self: Any, transit_gateway_attachment_id: str) -> Any:
        attachment = original(self, transit_gateway_attachment_id)
        model.set_state(attachment, "rejected")
        return attachment

    return reject


def wrap_delete_peering(original: Method) -> Method:
    def delete(self: Any, transit_gateway_attachment_id: str) -> Any:
        attachment = original(self, transit_gateway_attachment_id)
        lifecycle.retire(attachment)
        return attachment

    return delete
