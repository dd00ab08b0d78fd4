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

import ipaddress
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow

from linkplane.localcloud.ec2 import errors, lifecycle, model
from linkplane.localcloud.ec2.backends import LOCK, backend_of, existing_backends, tgw_by_id

_PSK_ALPHABET = string.ascii_letters + string.digits + "._"
#: AWS: 8-64 of letters, digits, periods and underscores; it cannot start with zero.
PSK_RE = re.compile(r"^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$")
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
#: Inside /30s AWS refuses (Site-to-Site VPN guide, "Tunnel options").
RESERVED_INSIDE = tuple(ipaddress.IPv4Network(c) for c in (
    "169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
    "169.254.5.0/30", "169.254.169.252/30"))  # fmt: skip
#: The metric namespace and dimensions AWS publishes tunnel metrics under.
METRICS_NAMESPACE = "AWS/VPN"


def inside_cidr_problem(cidr: str) -> str | None:
    """Why AWS refuses ``cidr`` as a tunnel's inside CIDR, or None."""
    try:
        net = ipaddress.IPv4Network(cidr)
    except ValueError:
        return f"{cidr} is not an IPv4 CIDR"
    if net.prefixlen != 30 or not net.subnet_of(LINK_LOCAL):
        return f"{cidr} is not a /30 CIDR block inside 169.254.0.0/16"
    if any(net.overlaps(r) for r in RESERVED_INSIDE):
        return f"{cidr} is a reserved inside CIDR block"
    return None


def _generated_psk() -> str:
    first = secrets.choice(_PSK_ALPHABET.replace("0", ""))
    return first + "".join(secrets.choice(_PSK_ALPHABET) for _ in range(31))


def _tunnel(index: int, seed: int, requested: Mapping[str, Any]) -> dict[str, Any]:
    inside_base = 4 * ((seed * 2 + index) % 16000 + 8)  # distinct /30s, past the reserved ones
    return {
        # 203.0.113.0/24 (TEST-NET-3): documentation addresses, never routable.
        "OutsideIpAddress": f"203.0.113.{(seed * 2 + index) % 250 + 1}",
        "TunnelInsideCidr": requested.get("TunnelInsideCidr")
        or f"169.254.{inside_base // 256}.{inside_base % 256}/30",
        "PreSharedKey": requested.get("PreSharedKey") or _generated_psk(),
    }


def _inside_in_use(backend: Any, tgw_id: str | None) -> set[str]:
    """Inside CIDRs of the live VPN connections on the same gateway (AWS: unique per TGW)."""
    used: set[str] = set()
    for other in backend.vpn_connections.values():
        if other.state in ("deleting", "deleted") or other.transit_gateway_id != tgw_id:
            continue
        for tunnel in (getattr(other, "options", None) or {}).get("TunnelOptions", []):
            used.add(tunnel["TunnelInsideCidr"])
    return used


def check_tunnel_options(backend: Any, tgw_id: str | None, options: Mapping[str, Any]) -> None:
    """The request's tunnel options as AWS validates them (InvalidParameterValue)."""
    requested: Sequence[Mapping[str, Any]] = options.get("TunnelOptions") or []
    if len(requested) > 2:
        raise errors.invalid_parameter("A VPN connection has at most two tunnels.")
    cidrs = [t["TunnelInsideCidr"] for t in requested if t.get("TunnelInsideCidr")]
    for cidr in cidrs:
        problem = inside_cidr_problem(cidr)
        if problem:
            raise errors.invalid_parameter(f"The tunnel inside CIDR {problem}.")
    if len(set(cidrs)) != len(cidrs):
        raise errors.invalid_parameter("The tunnel inside CIDRs must be unique.")
    taken = _inside_in_use(backend, tgw_id) & set(cidrs)
    if taken:
        raise errors.invalid_parameter(
            f"The tunnel inside CIDR {sorted(taken)[0]} is already in use on {tgw_id}."
        )
    for tunnel in requested:
        psk = tunnel.get("PreSharedKey")
        if psk and not PSK_RE.match(psk):
            raise errors.invalid_parameter(
                "The pre-shared key must be 8-64 characters of letters, digits, periods and "
                "underscores, and must not start with zero."
            )


def describe_tunnels(vpn: Any, options: Mapping[str, Any]) -> None:
    """Give the moto VPN connection the two tunnels and options AWS reports; it is
    ``pending`` until the next read (:func:`settle`), as AWS's takes a few minutes."""
    seed = int(vpn.id.split("-")[-1][-6:], 16)
    requested = list(options.get("TunnelOptions") or [])
    requested += [{}] * (2 - len(requested))
    tunnels = [_tunnel(i, seed, requested[i]) for i in range(2)]
    vpn.category = "VPN"
    vpn.state = "pending"
    vpn.options = {
        "StaticRoutesOnly": bool(options.get("StaticRoutesOnly", False)),
        "TunnelInsideIpVersion": "ipv4",
        "TunnelOptions": tunnels,
    }
    now = utcnow()
    vpn.vgw_telemetry = [
        {"OutsideIpAddress": t["OutsideIpAddress"], "Status": "DOWN", "AcceptedRouteCount": 0,
         "StatusMessage": "", "LastStatusChange": now}
        for t in tunnels
    ]  # fmt: skip
    vpn.routes = []
    for tunnel in tunnels:
        _put_metrics(vpn, tunnel["OutsideIpAddress"], {"TunnelState": 0.0}, now)


def settle(vpn: Any) -> None:
    """A read after the create sees the connection available (and deleting ones deleted)."""
    if vpn.state == "pending":
        vpn.state = "available"
    elif vpn.state == "deleting":
        vpn.state = "deleted"


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


# --- customer gateways ------------------------------------------------------------------------
def same_customer_gateway(backend: Any, kind: str, ip: str, asn: str, device: str) -> Any | None:
    """AWS: "an identical request returns information about the existing customer gateway"
    (type, IP address, BGP ASN and device name), as long as it is not deleted."""
    for cgw in backend.customer_gateways.values():
        same = (cgw.type, cgw.ip_address, str(cgw.bgp_asn), getattr(cgw, "device_name", ""))
        if cgw.state not in ("deleting", "deleted") and same == (kind, ip, str(asn), device):
            return cgw
    return None


def check_customer_gateway_unused(backend: Any, cgw_id: str) -> None:
    """AWS refuses to delete a customer gateway a VPN connection uses, until that one is
    ``deleted`` (not while it is still ``deleting``)."""
    for vpn in backend.vpn_connections.values():
        if vpn.customer_gateway_id == cgw_id and vpn.state != "deleted":
            raise errors.incorrect_state(
                f"The customer gateway {cgw_id} is in use by {vpn.id} and cannot be deleted."
            )


# --- tunnel state and metrics (the embedded cloud's side of VgwTelemetry and AWS/VPN) --------
def _find_vpn(vpn_id: str) -> Any:
    for backend in existing_backends():
        found = backend.vpn_connections.get(vpn_id)
        if found is not None:
            return found
    raise KeyError(f"no VPN connection {vpn_id} in the embedded cloud")


def _put_metrics(vpn: Any, outside_ip: str, values: Mapping[str, float], at: datetime) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[vpn.ec2_backend.account_id][vpn.ec2_backend.region_name]
    dimensions = [{"Name": "VpnId", "Value": vpn.id},
                  {"Name": "TunnelIpAddress", "Value": outside_ip}]  # fmt: skip
    backend.put_metric_data(METRICS_NAMESPACE, [
        {"MetricName": name, "Value": value, "Dimensions": dimensions, "Timestamp": at,
         "Unit": "Bytes" if name.startswith("TunnelData") else "None"}
        for name, value in values.items()
    ])  # fmt: skip


def set_tunnel_status(vpn_id: str, outside_ip: str, status: str, message: str = "") -> None:
    """Bring one tunnel UP or DOWN, as the customer's router would: ``VgwTelemetry`` and the
    ``TunnelState`` metric (1 up, 0 down) change together."""
    if status not in ("UP", "DOWN"):
        raise ValueError(f"tunnel status {status!r} is neither UP nor DOWN")
    with LOCK:
        vpn = _find_vpn(vpn_id)
        now = utcnow()
        for entry in vpn.vgw_telemetry:
            if entry["OutsideIpAddress"] == outside_ip:
                if entry["Status"] != status:
                    entry["LastStatusChange"] = now
                entry.update(Status=status, StatusMessage=message)
                break
        else:
            raise KeyError(f"{vpn_id} has no tunnel with outside address {outside_ip}")
        _put_metrics(vpn, outside_ip, {"TunnelState": 1.0 if status == "UP" else 0.0}, now)


def record_tunnel_traffic(vpn_id: str, outside_ip: str, bytes_in: float, bytes_out: float) -> None:
    """Traffic through one tunnel: the ``TunnelDataIn``/``TunnelDataOut`` metrics."""
    with LOCK:
        vpn = _find_vpn(vpn_id)
        _put_metrics(vpn, outside_ip, {"TunnelDataIn": bytes_in, "TunnelDataOut": bytes_out},
                     utcnow())  # fmt: skip


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


def advertise(vpn_id: str, cidrs: Sequence[str]) -> None:
    """What the customer's BGP router advertises over a BGP connection's tunnels (the embedded
    cloud has no BGP speaker): while a tunnel is UP, the prefixes are the ``vpn``
    attachment's propagated routes in every table it propagates to, as AWS's BGP-learned
    routes are; ``AcceptedRouteCount`` counts them."""
    with LOCK:
        vpn = _find_vpn(vpn_id)
        if (vpn.options or {}).get("StaticRoutesOnly"):
            raise ValueError(f"{vpn_id} uses static routes only: it has no BGP session")
        vpn.lp_advertised = [str(ipaddress.IPv4Network(c)) for c in cidrs]
        for entry in vpn.vgw_telemetry:
            entry["AcceptedRouteCount"] = len(cidrs) if entry["Status"] == "UP" else 0


def learned_cidrs(backend: Any, vpn_id: str) -> list[str]:
    """The prefixes a VPN connection's BGP session has learned now (none while no tunnel is
    up, or for a static connection)."""
    vpn = backend.vpn_connections.get(vpn_id)
    if vpn is None or vpn.state != "available" or (vpn.options or {}).get("StaticRoutesOnly"):
        return []
    if not any(t["Status"] == "UP" for t in vpn.vgw_telemetry):
        return []
    return list(getattr(vpn, "lp_advertised", []))
