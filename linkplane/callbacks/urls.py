"""Callback URLs are customer-controlled: what linkplane refuses to call, and how it calls.

- ``http`` or ``https`` only, with a host, without ``user:password@``, at most 2048 chars.
- Every address linkplane connects to must be public (``ipaddress`` ``is_global``, not
  multicast): loopback, RFC 1918, the CGNAT/device space 100.64.0.0/10, link-local
  169.254.0.0/16 (cloud metadata), IPv6 ULA and link-local, reserved ranges and the
  IPv4-mapped forms of all these are refused, unless the address is inside
  ``LINKPLANE_CALLBACK_ALLOWED_CIDRS`` (an operator's explicit exception).
- A literal address or a ``localhost`` name is refused when the callback is registered;
  names are resolved at each attempt and the request goes to the address that was checked
  (``Host`` header and TLS SNI keep the name), so a DNS answer that changes between check and
  connect cannot redirect it. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from linkplane.errors import InvalidInput

MAX_URL = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., Sequence[tuple[Any, ...]]]


class UnsafeTarget(Exception):
    """The URL may not be called (a reason a person can act on)."""


def parse_allowed(text: str) -> tuple[IPNetwork, ...]:
    """``LINKPLANE_CALLBACK_ALLOWED_CIDRS``: comma-separated CIDRs (empty: none)."""
    nets = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError as exc:
                raise ValueError(f"callback_allowed_cidrs: {part!r} is not a CIDR") from exc
    return tuple(nets)


def address_allowed(address: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    if any(address in net for net in allowed):
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_allowed(address.ipv4_mapped, allowed)
    return address.is_global and not address.is_multicast


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL:
        raise UnsafeTarget(f"the URL is longer than {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the URL must not carry credentials (user:password@)")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    try:
        _ = parts.port  # raises ValueError for a port outside 0-65535
    except ValueError:
        raise UnsafeTarget("the URL's port is not a number from 1 to 65535") from None
    return parts


def check_url(url: str, allowed: Sequence[IPNetwork]) -> str:
    """The URL if it may be registered as a callback, else InvalidInput naming ``url``."""
    try:
        parts = _split(url)
        host = parts.hostname or ""
        literal = _literal(host)
        if literal is not None and not address_allowed(literal, allowed):
            raise UnsafeTarget(f"{host} is not a public address")
        if literal is None and (host == "localhost" or host.endswith(".localhost")):
            raise UnsafeTarget(f"{host} is this machine")
    except UnsafeTarget as exc:
        raise InvalidInput(f"callback URL refused: {exc}", field="url") from None
    return url


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True)
class PinnedRequest:
    """Where to connect (the checked address) and what to tell the server (its name)."""

    url: str
    host_header: str
    sni_hostname: str | None


def pin(
    url: str,
    allowed: Sequence[IPNetwork],
    resolver: Resolver = socket.getaddrinfo,
) -> PinnedRequest:
    """Resolve the URL's host now and choose a permitted address, or raise UnsafeTarget."""
    parts = _split(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal(host)
    if literal is not None:
        candidates = [literal]
    else:
        try:
            infos = resolver(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UnsafeTarget(f"cannot resolve {host}: {exc}") from None
        candidates = [ipaddress.ip_address(info[4][0]) for info in infos]
    chosen = next((a for a in candidates if address_allowed(a, allowed)), None)
    if chosen is None:
        raise UnsafeTarget(f"{host} resolves to no public address")
    netloc = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    if parts.port is not None:
        netloc += f":{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    sni = host if parts.scheme == "https" and literal is None else None
    return PinnedRequest(target, host_header, sni)


def shown(url: str) -> str:
    """The URL as events and logs show it: scheme, host and port only (paths and queries
    may carry the customer's tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"
