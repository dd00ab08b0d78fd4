"""IPsec VPN breakouts (types 2 static, 3 BGP, 4 BGP High Availability): the request's rules,
and what the customer applies to its router.

Each check raises :class:`InvalidInput` naming the request field and saying how to fix it,
before anything is stored. The rules are AWS's (Site-to-Site VPN guide, "Tunnel options" and
"Customer gateway options"), so AWS never refuses what linkplane accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import string
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkplane.attachments.models import BGP_TYPES, BreakoutType
from linkplane.errors import InvalidInput

#: emnify and AWS: 8-64 letters, digits, periods and underscores, not starting with zero.
PSK_RE = re.compile(r"^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$")
_PSK_ALPHABET = string.ascii_letters + string.digits + "._"
#: AWS's customer gateway BGP ASN range (2-byte and 4-byte ASNs up to 2^31 - 1).
ASN_MIN, ASN_MAX = 1, 2_147_483_647
#: ASNs AWS reserves in some regions (Site-to-Site VPN guide, "Customer gateway options").
RESERVED_ASNS = frozenset({7224, 9059, 10124, 17943})
#: AWS's side of linkplane's transit gateways (bootstrap leaves AWS's default ASN).
AMAZON_SIDE_ASN = 64512
#: What AWS uses for a customer gateway of a static VPN (it needs one even without BGP).
STATIC_ASN = 65000
LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
RESERVED_INSIDE = tuple(ipaddress.IPv4Network(c) for c in (
    "169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
    "169.254.5.0/30", "169.254.169.252/30"))  # fmt: skip
#: A VPN connection has two tunnels; each takes one inside CIDR.
TUNNELS = 2
#: Type 4 has two connections (one per customer gateway), so four tunnels.
HA_CONNECTIONS = 2
#: The IKE and ESP proposals AWS's endpoints accept by default (and the configuration offers).
IKE_PROPOSAL = "aes256-sha256-modp2048"
ESP_PROPOSAL = "aes256-sha256-modp2048"


def check_type(type_id: int | None) -> BreakoutType:
    if type_id in (BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA):
        return BreakoutType(type_id)
    raise InvalidInput(f"type {type_id} is not a VPN breakout type; use 2 (IPsec VPN, static "
                       "routes), 3 (IPsec VPN BGP) or 4 (IPsec VPN BGP High Availability); "
                       "Transit Gateway breakouts are created with POST "
                       "/api/v1/cnc/breakout/tgw", field="type")  # fmt: skip


def tunnels_of_type(kind: BreakoutType) -> int:
    return TUNNELS * (HA_CONNECTIONS if kind is BreakoutType.VPN_BGP_HA else 1)


def check_second_ip(kind: BreakoutType, text: str | None, first: str) -> str | None:
    """Type 4's second customer gateway: a public IPv4 address other than the first (two
    gateways on one address would not survive the failure HA is for)."""
    if kind is not BreakoutType.VPN_BGP_HA:
        if text:
            raise InvalidInput("public_ip_2 (a second VPN server) is for type 4 (IPsec VPN "
                               "BGP High Availability) only; leave it out",
                               field="public_ip_2")  # fmt: skip
        return None
    if not text:
        raise InvalidInput("a BGP High Availability VPN (type 4) needs a second VPN server: "
                           "give its public IPv4 address in public_ip_2",
                           field="public_ip_2")  # fmt: skip
    second = check_public_ip(text, field="public_ip_2")
    if second == first:
        raise InvalidInput(f"public_ip_2 {second} is the same as public_ip; high "
                           "availability needs two VPN servers on two addresses",
                           field="public_ip_2")  # fmt: skip
    return second


def check_public_ip(text: str, *, field: str = "public_ip") -> str:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not an IP address; give your VPN server's public "
                           "IPv4 address, e.g. 81.2.69.160", field=field) from None
    if ip.version != 4:
        raise InvalidInput(f"{text} is IPv6; AWS Site-to-Site VPN needs the VPN server's "
                           "public IPv4 address", field=field)  # fmt: skip
    if not ip.is_global:
        raise InvalidInput(f"{text} is not a public address (private, reserved or special "
                           "use); AWS must reach your VPN server on the internet",
                           field=field)  # fmt: skip
    return str(ip)


def check_psk(psk: str | None) -> str:
    """The given PSK, or a generated one when empty (as emnify: retrievable with GET)."""
    if not psk:
        first = secrets.choice(_PSK_ALPHABET.replace("0", ""))
        return first + "".join(secrets.choice(_PSK_ALPHABET) for _ in range(31))
    if not PSK_RE.match(psk):
        raise InvalidInput("the pre-shared key must be 8 to 64 characters of letters, digits, "
                           "'.' and '_', and must not start with 0; leave it empty to have "
                           "one generated", field="psk")  # fmt: skip
    return psk


def check_asn(kind: BreakoutType, asn: int | None) -> int:
    if asn is None:
        if kind in BGP_TYPES:
            raise InvalidInput(f"a BGP VPN (type {int(kind)}) needs the ASN of your router: "
                               "give 'asn', e.g. a private one from 64512 to 65534",
                               field="asn")  # fmt: skip
        return STATIC_ASN
    if not ASN_MIN <= asn <= ASN_MAX:
        raise InvalidInput(f"ASN {asn} is outside what AWS accepts ({ASN_MIN} to {ASN_MAX})",
                           field="asn")  # fmt: skip
    if asn == AMAZON_SIDE_ASN:
        raise InvalidInput(f"ASN {asn} is the transit gateway's own (AWS's side of the BGP "
                           "session); use another one, e.g. 65000", field="asn")  # fmt: skip
    if asn in RESERVED_ASNS:
        raise InvalidInput(f"ASN {asn} is reserved by AWS; use another one, e.g. a private "
                           "one from 64512 to 65534", field="asn")  # fmt: skip
    return asn


def check_inside_cidrs(kind: BreakoutType, cidrs: Sequence[str], taken: set[str]) -> list[str]:
    """The tunnels' inside /30s (``taken``: those of other live VPNs on the same TGW)."""
    if cidrs and kind not in BGP_TYPES:
        raise InvalidInput("inside_cidr is for BGP VPNs (types 3 and 4) only; leave it out "
                           "for a static VPN", field="inside_cidr")  # fmt: skip
    most = tunnels_of_type(kind)
    if len(cidrs) > most:
        raise InvalidInput(f"{len(cidrs)} inside CIDRs given; this VPN has {most} tunnels "
                           "(two per connection), one /30 each", field="inside_cidr")  # fmt: skip
    out: list[str] = []
    for i, text in enumerate(cidrs):
        field = f"inside_cidr[{i}]"
        net = _inside_net(text, field)
        if str(net) in out:
            raise InvalidInput(f"{net} is given twice; each tunnel needs its own /30",
                               field=field)  # fmt: skip
        if str(net) in taken:
            raise InvalidInput(f"{net} is already used by another VPN on this transit "
                               "gateway; choose another /30 or leave inside_cidr empty",
                               field=field)  # fmt: skip
        out.append(str(net))
    return out


def _inside_net(text: str, field: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.IPv4Network(text.strip())
    except ValueError:
        raise InvalidInput(f"{text!r} is not an IPv4 CIDR with its network address, e.g. "
                           "169.254.10.0/30", field=field) from None  # fmt: skip
    if net.prefixlen != 30 or not net.subnet_of(LINK_LOCAL):
        raise InvalidInput(f"{net} must be a /30 inside 169.254.0.0/16, e.g. 169.254.10.0/30",
                           field=field)  # fmt: skip
    if any(net.overlaps(r) for r in RESERVED_INSIDE):
        raise InvalidInput(f"{net} is reserved by AWS (169.254.0.0/30 to 169.254.5.0/30 and "
                           "169.254.169.252/30); choose another /30", field=field)  # fmt: skip
    return net


# --- the PSK at rest ---------------------------------------------------------------------------
#: AES-256-GCM under a key derived from the installation's signing key (as the MFA secrets,
#: with another purpose label), so a copy of the database alone does not reveal the PSKs.
#: Migration 0017 carries its own copy of these lines: migrations never import the product.
PSK_PURPOSE = b"linkplane-vpn-psk-v1"


def _psk_aead(signing_key: str) -> AESGCM:
    return AESGCM(hmac.new(signing_key.encode(), PSK_PURPOSE, hashlib.sha256).digest())


def seal_psk(psk: str, *, signing_key: str) -> str:
    nonce = os.urandom(12)
    sealed = _psk_aead(signing_key).encrypt(nonce, psk.encode(), PSK_PURPOSE)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal_psk(stored: str, *, signing_key: str) -> str:
    raw = base64.urlsafe_b64decode(stored.encode())
    try:
        return _psk_aead(signing_key).decrypt(raw[:12], raw[12:], PSK_PURPOSE).decode()
    except InvalidTag:
        # The signing key changed since creation: the stored PSK cannot be read any more.
        raise InvalidInput("this VPN's pre-shared key can no longer be read (the "
                           "installation's signing key changed); delete the breakout and "
                           "create it again", field="psk") from None  # fmt: skip


# --- what the customer's router needs ----------------------------------------------------------
VENDORS = ("strongswan", "generic")


def inside_addresses(cidr: str) -> tuple[str, str]:
    """(AWS's, the customer's) inside address of a tunnel: the /30's first and second host."""
    hosts = list(ipaddress.IPv4Network(cidr).hosts())
    return str(hosts[0]), str(hosts[1])


def configuration(vendor: str, breakout: dict[str, Any]) -> str:
    """The text the customer applies: ``breakout`` has ``id``, ``public_ip``, ``psk``,
    ``asn``, ``bgp``, ``amazon_asn``, ``on_prem_cidr``, ``remote_cidrs`` and ``tunnels``
    (``outside_ip``, ``inside_cidr``, and for type 4 ``customer_ip``: which of the
    customer's two VPN servers the tunnel ends on)."""
    if vendor not in VENDORS:
        raise InvalidInput(f"unknown vendor {vendor!r}; use one of {', '.join(VENDORS)}",
                           field="vendor")  # fmt: skip
    if not breakout["tunnels"]:
        raise InvalidInput("the VPN connection is not created yet; its configuration exists "
                           "once the breakout is Pending CRG Activation or Active",
                           field="status")  # fmt: skip
    render = _strongswan if vendor == "strongswan" else _generic
    return render(breakout)


def _generic(b: dict[str, Any]) -> str:
    servers = sorted({t.get("customer_ip") or b["public_ip"] for t in b["tunnels"]})
    lines = [f"# linkplane breakout {b['id']}: AWS Site-to-Site VPN, {len(b['tunnels'])} tunnels",
             f"# Your VPN server{'s' if len(servers) > 1 else ''}: {', '.join(servers)}; "
             f"your networks: {', '.join(b['on_prem_cidr'])}",
             f"# Networks behind AWS (route them into the tunnels): {', '.join(b['remote_cidrs'])}",
             f"IKE version: IKEv2; IKE proposal: {IKE_PROPOSAL}; ESP proposal: {ESP_PROPOSAL}",
             "IKE lifetime: 28800 s; IPsec lifetime: 3600 s; DPD: 10 s, 3 retries", ""]  # fmt: skip
    for n, tunnel in enumerate(b["tunnels"], 1):
        aws_inside, own_inside = inside_addresses(tunnel["inside_cidr"])
        lines += [f"[tunnel {n}]", f"AWS outside address: {tunnel['outside_ip']}",
                  *([f"Your VPN server: {tunnel['customer_ip']}"] if len(servers) > 1 else []),
                  f"Pre-shared key: {b['psk']}",
                  f"Inside CIDR: {tunnel['inside_cidr']} (AWS {aws_inside}, you {own_inside})"]
        if b["bgp"]:
            lines += [f"BGP: your ASN {b['asn']}, neighbour {aws_inside} ASN {b['amazon_asn']}",
                      "BGP: advertise only your declared networks; others are never routed"]
        else:
            lines += ["Routing: static (no BGP)"]
        lines.append("")
    return "\n".join(lines)


def _strongswan(b: dict[str, Any]) -> str:
    """swanctl.conf for strongSwan 5.9+ (IKEv2, route-based with XFRM interfaces 1 and 2)."""
    local = ",".join(b["on_prem_cidr"])
    remote = ",".join(b["remote_cidrs"])
    out = [f"# swanctl.conf for linkplane breakout {b['id']} (strongSwan)", "connections {"]
    secrets_part = ["secrets {"]
    for n, tunnel in enumerate(b["tunnels"], 1):
        aws_inside, own_inside = inside_addresses(tunnel["inside_cidr"])
        own = tunnel.get("customer_ip") or b["public_ip"]  # type 4: one of two servers
        out += [f"  # tunnel {n}: on your VPN server {own}", f"  aws-tunnel-{n} {{",
                "    version = 2", "    local_addrs = %any",
                f"    remote_addrs = {tunnel['outside_ip']}", f"    proposals = {IKE_PROPOSAL}",
                "    dpd_delay = 10s", "    rekey_time = 28800s",
                f"    local {{ auth = psk\n      id = {own} }}",
                f"    remote {{ auth = psk\n      id = {tunnel['outside_ip']} }}",
                "    children {", f"      aws-tunnel-{n} {{",
                f"        local_ts = {'0.0.0.0/0' if b['bgp'] else local}",
                f"        remote_ts = {'0.0.0.0/0' if b['bgp'] else remote}",
                f"        esp_proposals = {ESP_PROPOSAL}", "        start_action = start",
                "        dpd_action = restart", f"        if_id_in = {n}",
                f"        if_id_out = {n}", "      }", "    }", "  }",
                f"  # tunnel {n} inside: AWS {aws_inside}, you {own_inside}/30"]  # fmt: skip
        if b["bgp"]:
            out.append(f"  # BGP: neighbor {aws_inside} remote-as {b['amazon_asn']}, "
                       f"local-as {b['asn']}; advertise only {local}")  # fmt: skip
        secrets_part += [f"  ike-aws-{n} {{", f"    id = {tunnel['outside_ip']}",
                         f"    secret = \"{b['psk']}\"", "  }"]  # fmt: skip
    return "\n".join([*out, "}", *secrets_part, "}", ""])
