"""Breakout CIDR rules: what a customer may put in ``vpc_cidr[]``.

Entry points:

- :func:`validate_breakout_cidrs` -- the whole check for one create/PATCH request; returns the
  parsed networks or raises :class:`~linkplane.errors.InvalidInput` whose ``field`` is
  ``"vpc_cidr[i]"`` (one element) or ``"vpc_cidr"`` (the list as a whole).
- :func:`reserved_ranges` -- the named ranges every breakout must avoid (device address
  spaces, core VPC); add the other breakouts' CIDRs on the same TGW with
  :func:`breakout_ranges` and pass the lot as ``existing``.
- :class:`CidrLimits` -- count and size limits, built from settings with
  :meth:`CidrLimits.from_settings`.
- :class:`RangeIndex` -- "which of these named networks overlaps this one?" in
  O(33 + log n), reused by the verifier.

Why these rules: every customer CIDR becomes one static route in the shared core TGW route
table, so CIDRs must be unique across the TGW and must not shadow the device address space
or the core VPC; each route counts against the TGW quota of 10,000 routes.

Only IPv4 is supported: the device address space and the core packet policy are IPv4, so an
IPv6 CIDR is refused with a message saying so rather than half-supported.

Pure code: no I/O, no framework imports.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network
from typing import Protocol

from linkplane.errors import InvalidInput

#: AWS default quota of routes (static + propagated) across all route tables of one TGW.
TGW_ROUTE_QUOTA = 10_000

#: The private ranges a customer VPC may use (RFC 1918).
PRIVATE_RANGES: tuple[IPv4Network, ...] = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)

#: Shared address space (RFC 6598): private, but it is where device addresses live.
SHARED_ADDRESS_SPACE = IPv4Network("100.64.0.0/10")

FIELD = "vpc_cidr"


def ip_int(text: str) -> int:
    """A dotted-quad IPv4 address as an integer, parsed in C (``ipaddress`` is ~20x slower,
    which matters for 100,000 devices). Raises ValueError on anything else."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text.strip()), "big")
    except OSError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def ip_str(value: int) -> str:
    """The dotted-quad form of an integer IPv4 address."""
    return socket.inet_ntoa(value.to_bytes(4, "big"))


@lru_cache(maxsize=1 << 16)
def as_network(text: str) -> IPv4Network:
    """Parse an already-validated CIDR (host bits ignored), cached: the same breakout CIDRs
    are parsed by routing, policy and verifier for every run."""
    return IPv4Network(text.strip(), strict=False)


class _LimitSettings(Protocol):
    max_cidrs_per_breakout: int
    min_prefix_length: int


@dataclass(frozen=True)
class CidrLimits:
    """Per-breakout limits.

    ``min_prefix_length`` is the shortest prefix allowed, i.e. the largest block: 16 allows a
    /16 or anything smaller (/17 ... /32) and refuses a /15.
    """

    max_cidrs: int = 10
    min_prefix_length: int = 16

    @classmethod
    def from_settings(cls, settings: _LimitSettings) -> CidrLimits:
        return cls(
            max_cidrs=settings.max_cidrs_per_breakout,
            min_prefix_length=settings.min_prefix_length,
        )


@dataclass(frozen=True)
class NamedRange:
    """A network a breakout CIDR must not overlap, with a name that error messages show.

    ``name`` reads well after "overlaps", e.g. ``"the device address space 100.64.0.0/10"``
    or ``"breakout 42 'Acme prod'"``.
    """

    name: str
    network: IPv4Network

    @classmethod
    def of(cls, name: str, cidr: str) -> NamedRange:
        return cls(name=name, network=IPv4Network(cidr))


def reserved_ranges(*, device_cidrs: Iterable[str], core_vpc_cidr: str) -> list[NamedRange]:
    """The ranges reserved by the provider: every device address space and the core VPC."""
    reserved = [NamedRange.of(f"the device address space {cidr}", cidr) for cidr in device_cidrs]
    reserved.append(NamedRange.of(f"the core VPC {core_vpc_cidr}", core_vpc_cidr))
    return reserved


def breakout_ranges(breakout_label: str, cidrs: Iterable[str]) -> list[NamedRange]:
    """Name another breakout's CIDRs for ``existing``: ``breakout_ranges("breakout 7", ..)``."""
    return [NamedRange.of(f"{cidr} of {breakout_label}", cidr) for cidr in cidrs]


class RangeIndex:
    """Named IPv4 networks, indexed to find the ones overlapping a query network fast.

    Two CIDR blocks overlap iff one contains the other, so a query checks at most 33
    candidate supernets by exact key, and its subnets by bisecting on start addresses.
    """

    def __init__(self, ranges: Iterable[NamedRange]) -> None:
        self._by_key: dict[tuple[int, int], list[NamedRange]] = {}
        items: list[tuple[int, int, NamedRange]] = []
        for item in ranges:
            net = item.network
            key = (int(net.network_address), net.prefixlen)
            self._by_key.setdefault(key, []).append(item)
            items.append((key[0], net.prefixlen, item))
        items.sort(key=lambda t: (t[0], t[1]))
        self._starts = [t[0] for t in items]
        self._items = [t[2] for t in items]

    def overlapping(self, net: IPv4Network) -> list[NamedRange]:
        """Every indexed range that shares at least one address with ``net``."""
        found: list[NamedRange] = []
        start = int(net.network_address)
        for plen in range(net.prefixlen + 1):  # supernets of net, and net itself
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
            found.extend(self._by_key.get((start & mask, plen), ()))
        end = int(net.broadcast_address)
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_right(self._starts, end)
        for item in self._items[lo:hi]:  # strict subnets of net start inside it
            if item.network.prefixlen > net.prefixlen:
                found.append(item)
        return found


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_cidr(text: str, *, field: str = FIELD) -> IPv4Network:
    """Parse one IPv4 CIDR strictly; the error says exactly what to write instead."""
    raw = text.strip() if isinstance(text, str) else text
    if not isinstance(raw, str) or not raw:
        raise InvalidInput("a CIDR such as 10.1.0.0/16 is required", field=field)
    if "/" not in raw and _is_address(raw):
        raise InvalidInput(
            f"{raw!r} has no prefix length; write a CIDR such as {raw}/24", field=field
        )
    try:
        net = ipaddress.ip_network(raw, strict=False)
    except ValueError:
        raise InvalidInput(
            f"{raw!r} is not a valid CIDR; write it as a.b.c.d/len, e.g. 10.1.0.0/16",
            field=field,
        ) from None
    if net.version != 4:
        raise InvalidInput(
            f"{raw} is IPv6; only IPv4 CIDRs are supported (devices and the core policy are IPv4)",
            field=field,
        )
    assert isinstance(net, IPv4Network)
    if int(ipaddress.ip_interface(raw).ip) != int(net.network_address):
        raise InvalidInput(f"{raw} has host bits set; use the network address {net}", field=field)
    return net


def check_private(net: IPv4Network, *, field: str = FIELD) -> None:
    """Refuse anything outside RFC 1918, naming the device space when that is the reason."""
    if net.overlaps(SHARED_ADDRESS_SPACE):
        raise InvalidInput(
            f"{net} overlaps {SHARED_ADDRESS_SPACE}, the shared address space reserved for "
            "device addresses; use a range in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            field=field,
        )
    if not any(net.subnet_of(private) for private in PRIVATE_RANGES):
        raise InvalidInput(
            f"{net} is not a private (RFC 1918) range; use one inside 10.0.0.0/8, "
            "172.16.0.0/12 or 192.168.0.0/16",
            field=field,
        )


def check_size(net: IPv4Network, limits: CidrLimits, *, field: str = FIELD) -> None:
    if net.prefixlen < limits.min_prefix_length:
        raise InvalidInput(
            f"{net} is larger than allowed; the largest block is "
            f"/{limits.min_prefix_length}, split it or use a longer prefix",
            field=field,
        )


def check_count(cidrs: Sequence[str], limits: CidrLimits) -> None:
    if not cidrs:
        raise InvalidInput("at least one CIDR is required", field=FIELD)
    if len(cidrs) > limits.max_cidrs:
        raise InvalidInput(
            f"{len(cidrs)} CIDRs given; at most {limits.max_cidrs} are allowed per breakout",
            field=FIELD,
        )


def check_no_self_overlap(nets: Sequence[IPv4Network]) -> None:
    """Refuse a request whose own CIDRs overlap; the later element is the one named."""
    order = sorted(range(len(nets)), key=lambda i: (int(nets[i].network_address), i))
    # Sorted by start, each block can only overlap the furthest-reaching earlier block.
    reach_end, reach_idx = -1, -1
    for i in order:
        start, end = int(nets[i].network_address), int(nets[i].broadcast_address)
        if start <= reach_end:
            first, second = sorted((reach_idx, i))
            raise InvalidInput(
                f"{nets[second]} overlaps {nets[first]} (vpc_cidr[{first}]) in the same "
                "request; remove one or make them disjoint",
                field=f"{FIELD}[{second}]",
            )
        if end > reach_end:
            reach_end, reach_idx = end, i


def check_no_overlap(nets: Sequence[IPv4Network], index: RangeIndex) -> None:
    for i, net in enumerate(nets):
        clashes = index.overlapping(net)
        if clashes:
            names = "; ".join(c.name for c in clashes[:3])
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise InvalidInput(
                f"{net} overlaps {names}{more}; choose a range that overlaps none of them",
                field=f"{FIELD}[{i}]",
            )


def check_quota(new_routes: int, *, routes_in_use: int, route_quota: int) -> None:
    if routes_in_use + new_routes > route_quota:
        free = max(route_quota - routes_in_use, 0)
        raise InvalidInput(
            f"this breakout needs {new_routes} TGW routes but only {free} of the "
            f"{route_quota} allowed on this Transit Gateway are free; use fewer CIDRs or "
            "ask the operator to raise the route quota",
            field=FIELD,
        )


def validate_breakout_cidrs(
    cidrs: Sequence[str],
    *,
    existing: Iterable[NamedRange] | RangeIndex,
    limits: CidrLimits,
    routes_in_use: int,
    route_quota: int = TGW_ROUTE_QUOTA,
) -> list[IPv4Network]:
    """Validate one breakout's ``vpc_cidr`` list and return it parsed, in request order.

    ``existing``: everything on the same TGW the CIDRs must not overlap -- other breakouts'
    CIDRs (when re-validating a breakout, leave its own out), :func:`reserved_ranges`.
    ``routes_in_use``: routes already counted on the TGW; each CIDR adds one static route.

    Checks, first failure wins: count, then per element (syntax, IPv4, host bits, private,
    size), then overlaps within the request, then with ``existing``, then route quota.
    Raises :class:`InvalidInput` with ``field`` ``"vpc_cidr[i]"`` or ``"vpc_cidr"``.
    """
    check_count(cidrs, limits)
    nets: list[IPv4Network] = []
    for i, text in enumerate(cidrs):
        field = f"{FIELD}[{i}]"
        net = parse_cidr(text, field=field)
        check_private(net, field=field)
        check_size(net, limits, field=field)
        nets.append(net)
    check_no_self_overlap(nets)
    index = existing if isinstance(existing, RangeIndex) else RangeIndex(existing)
    check_no_overlap(nets, index)
    check_quota(len(nets), routes_in_use=routes_in_use, route_quota=route_quota)
    return nets
