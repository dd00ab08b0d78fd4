"""Per-region device address pools: which part of the device space breaks out where.

Each core region owns one pool inside the device address space. A device's address tells
which region its traffic leaves the core in, so routes to a pool can point at that region (over
a peering from elsewhere); that only works while no two pools overlap.

Pure code: no I/O, no framework imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network, ip_network


def _parse(region: str, text: str) -> IPv4Network:
    try:
        network = ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"device pool of {region}: {text!r} is not a valid CIDR ({exc})") from None
    if not isinstance(network, IPv4Network):
        raise ValueError(f"device pool of {region}: {text} is not IPv4; pools are IPv4 only")
    return network


def check_pools(pools: Mapping[str, str], device_cidr: str, known: Iterable[str]) -> None:
    """Raise ValueError naming the entry and the fix unless every pool is a known region's
    IPv4 CIDR inside ``device_cidr`` and no two pools overlap."""
    space = ip_network(device_cidr, strict=False)
    known_regions = set(known)
    parsed: list[tuple[str, IPv4Network]] = []
    for region, text in sorted(pools.items()):
        if region not in known_regions:
            raise ValueError(f"region_device_pools: unknown region {region!r}")
        network = _parse(region, text)
        if not network.subnet_of(space):  # type: ignore[arg-type]
            raise ValueError(
                f"device pool of {region} {network} is not inside the device address space "
                f"{space}; pick a part of it (or change device_cidr)"
            )
        for other, taken in parsed:
            if network.overlaps(taken):
                raise ValueError(
                    f"device pools of {other} ({taken}) and {region} ({network}) overlap; "
                    "give each region a separate part of the device address space"
                )
        parsed.append((region, network))


def pool_overlap(pool: str, others: Mapping[str, str]) -> str | None:
    """The first region of ``others`` whose pool overlaps ``pool``, or None."""
    network = ip_network(pool, strict=False)
    for region, other in sorted(others.items()):
        if network.overlaps(ip_network(other, strict=False)):
            return region
    return None
