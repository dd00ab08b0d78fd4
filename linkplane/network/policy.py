"""The core packet policy: which device addresses may talk to which customer CIDRs.

Entry points:

- :meth:`CorePolicy.compute` -- from the fleet (:class:`Endpoint`) and the breakouts
  (:class:`Breakout`): a device address may reach its organisation's Active breakouts'
  CIDRs, and be reached from them, only when the endpoint is enabled, its SIM activated and
  its service profile allows Cloud Connect.
- :meth:`CorePolicy.allows` -- the same decision in Python, for one packet (either direction).
- :meth:`CorePolicy.render` -- a deterministic nftables ruleset for the core gateway, loaded
  atomically with ``nft -f FILE`` (the file deletes and re-creates table
  ``inet linkplane_core`` in one transaction). :func:`parse_ruleset` reads it back.

Ruleset design, for 100,000 devices and 5,000 breakouts: a map from device address to its
organisation id (as a packet mark) and one concatenated interval set of (organisation,
customer CIDR). A packet costs two hash/interval lookups whatever the fleet size, and the
file is one element per device plus one per CIDR, so it loads in one transaction quickly.
Traffic to or from any breakout CIDR (``customer_space``, all breakouts, Active or not) is
judged; everything else (devices to the Internet, core services) is left to other tables.

Regions. With several core regions each has its own device pool, and a breakout serves
the devices of some pools only: those of its attachment region and of the regions its routes
over a peering reach (``Breakout.pools``). Its CIDRs then go into ``regional_space`` and, per
pool, into ``pool_cidrs`` (pool . CIDR): after the organisation check, a packet to or from a
regional CIDR passes only when the device's address lies in one of the pools it is served
to. A device of region A reaches a customer attached in region B only through a breakout of
its organisation that declares A; without pools (one region) nothing changes.

Organisation ids are positive integers (they become 32-bit packet marks; mark 0 means
"no organisation" and never matches). Duplicate device addresses across organisations are
data errors: the address is left out of the policy and listed in ``conflicts``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from typing import Any, TypeVar

from linkplane.network.cidrs import as_network, ip_int, ip_str

TABLE = "linkplane_core"
K = TypeVar("K")
_MAX_MARK = 0xFFFFFFFF


@dataclass(frozen=True)
class Endpoint:
    """The policy-relevant facts of one device (emnify endpoint)."""

    org_id: int
    ip: str
    enabled: bool = True
    sim_activated: bool = True
    cloud_connect: bool = True
    id: int | str = ""

    @property
    def eligible(self) -> bool:
        return self.enabled and self.sim_activated and self.cloud_connect


@dataclass(frozen=True)
class Breakout:
    """The policy- and routing-relevant facts of one Cloud Connect breakout."""

    org_id: int
    cidrs: tuple[str, ...]
    active: bool = True
    id: int | str = ""
    attachment_id: str | None = None
    #: The device pools (CIDRs) whose devices this breakout serves; empty: every device of
    #: the organisation (one region, where routing serves the whole device space).
    pools: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceMap:
    """The fleet's side of the policy: eligible device address -> organisation, the address
    clashes left out, and every endpoint's owner (eligible or not).

    It depends on the endpoints only, not on breakouts or regions: ``verify`` over several
    regions computes it once per run and shares it, instead of walking 100,000 endpoints
    per region. Never mutated after :meth:`of`.
    """

    device_org: dict[int, int]
    conflicts: list[str]
    owner: dict[int, int]
    #: What the verifier found comparing a gateway's device map with this one, by the map's
    #: id (the map is kept too, so a recycled id is never mistaken for it).
    judged: dict[int, tuple[Mapping[int, int], list[Any]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, endpoints: Iterable[Endpoint]) -> DeviceMap:
        listed = list(endpoints)
        device_org, conflicts = _eligible_devices(listed)
        return cls(device_org, conflicts, {ip_int(e.ip): e.org_id for e in listed})


class _Intervals:
    """Sorted, merged integer intervals with O(log n) membership."""

    def __init__(self, nets: Iterable[IPv4Network]) -> None:
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets)
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in spans:
            if self._ends and start <= self._ends[-1] + 1:
                self._ends[-1] = max(self._ends[-1], end)
            else:
                self._starts.append(start)
                self._ends.append(end)

    def __contains__(self, addr: int) -> bool:
        return self.covers(addr, addr)

    def covers(self, start: int, end: int) -> bool:
        """Whether every address in ``start..end`` is inside one merged interval."""
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and end <= self._ends[i]


def _as_int(value: IPv4Address | str | int) -> int:
    return ip_int(value) if isinstance(value, str) else int(value)


@dataclass
class CorePolicy:
    """Allowed pairs as ``device -> org`` and ``org -> CIDRs``; see the module docstring."""

    device_org: dict[int, int]
    org_cidrs: dict[int, list[IPv4Network]]
    customer_space: list[IPv4Network]
    conflicts: list[str] = field(default_factory=list)
    #: CIDRs served to the devices of some pools only (breakouts with ``pools``).
    regional_space: list[IPv4Network] = field(default_factory=list)
    #: Device pool -> the regional CIDRs its devices may reach (and be reached from).
    pool_cidrs: dict[IPv4Network, list[IPv4Network]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._org_index = {org: _Intervals(nets) for org, nets in self.org_cidrs.items()}
        self._space = _Intervals(self.customer_space)
        self._regional = _Intervals(self.regional_space)
        self._pool_index = {pool: _Intervals(nets) for pool, nets in self.pool_cidrs.items()}

    @classmethod
    def compute(
        cls,
        endpoints: Iterable[Endpoint],
        breakouts: Iterable[Breakout],
        *,
        devices: DeviceMap | None = None,
    ) -> CorePolicy:
        """The policy the fleet and breakouts call for; ``devices``, when given, is the
        fleet's :class:`DeviceMap` already computed (``endpoints`` is then not read)."""
        if devices is None:
            device_org, conflicts = _eligible_devices(endpoints)
        else:
            device_org, conflicts = devices.device_org, list(devices.conflicts)
        by_org: dict[int, list[IPv4Network]] = {}
        by_pool: dict[IPv4Network, list[IPv4Network]] = {}
        everything: list[IPv4Network] = []
        regional: list[IPv4Network] = []
        for b in breakouts:
            nets = [as_network(c) for c in b.cidrs]
            everything.extend(nets)
            if b.active:
                _check_org(b.org_id)
                by_org.setdefault(b.org_id, []).extend(nets)
                if b.pools:
                    regional.extend(nets)
                for pool in b.pools:
                    by_pool.setdefault(as_network(pool), []).extend(nets)
        org_cidrs = {org: disjoint(n) for org, n in sorted(by_org.items())}
        pool_cidrs = {pool: disjoint(n) for pool, n in sorted(by_pool.items())}
        return cls(device_org, org_cidrs, disjoint(everything), conflicts,
                   disjoint(regional), pool_cidrs)  # fmt: skip

    def allows(self, src: IPv4Address | str | int, dst: IPv4Address | str | int) -> bool:
        """Whether the rendered ruleset passes a packet from ``src`` to ``dst``.

        Same order as the nft chains: a packet *to* customer space must come from a device
        whose organisation owns the destination; else a packet *from* customer space must go
        to such a device; any other packet is not judged by this table (True).
        """
        s, d = _as_int(src), _as_int(dst)
        if d in self._space:
            return self._forward(s, d)
        if s in self._space:
            return self._forward(d, s)
        return True

    def in_customer_space(self, net: IPv4Network) -> bool:
        """Whether the ruleset judges all traffic to and from ``net``."""
        return self._space.covers(int(net.network_address), int(net.broadcast_address))

    def org_covers(self, org_id: int, net: IPv4Network) -> bool:
        """Whether the policy lets devices of ``org_id`` reach all of ``net``."""
        index = self._org_index.get(org_id)
        start, end = int(net.network_address), int(net.broadcast_address)
        return index is not None and index.covers(start, end)

    def pool_covers(self, pool: IPv4Network, net: IPv4Network) -> bool:
        """Whether the policy serves all of ``net`` to the devices of ``pool``."""
        index = self._pool_index.get(pool)
        start, end = int(net.network_address), int(net.broadcast_address)
        return index is not None and index.covers(start, end)

    def is_regional(self, net: IPv4Network) -> bool:
        """Whether ``net`` is served to the devices of some pools only."""
        return self._regional.covers(int(net.network_address), int(net.broadcast_address))

    def _forward(self, device: int, cidr_addr: int) -> bool:
        org = self.device_org.get(device)
        index = self._org_index.get(org) if org is not None else None
        if index is None or cidr_addr not in index:
            return False
        return cidr_addr not in self._regional or self._in_pool(device, cidr_addr)

    def _in_pool(self, device: int, cidr_addr: int) -> bool:
        return any(
            int(pool.network_address) <= device <= int(pool.broadcast_address)
            and cidr_addr in index
            for pool, index in self._pool_index.items()
        )

    def without(self, cidrs: Iterable[IPv4Network]) -> CorePolicy:
        """This policy minus ``cidrs`` (as listed): the one gateway policy spans every region,
        while each region's verifier knows only the breakouts its devices reach. The device
        map is shared, not copied (neither is mutated after construction), so the regions'
        verifiers can tell it is the same map and judge it once."""
        nets = set(cidrs)
        return CorePolicy(
            self.device_org,
            _kept(self.org_cidrs, nets),
            [n for n in self.customer_space if n not in nets],
            regional_space=[n for n in self.regional_space if n not in nets],
            pool_cidrs=_kept(self.pool_cidrs, nets),
        )  # fmt: skip

    def render(self) -> str:
        """The nftables ruleset text: same input, byte-identical output."""
        return render_ruleset(self)

    def digest(self) -> str:
        """SHA-256 of :meth:`render`: apply only when it differs from the gateway's last one."""
        return hashlib.sha256(self.render().encode()).hexdigest()


def _kept(by_key: Mapping[K, list[IPv4Network]], gone: set[IPv4Network]
             ) -> dict[K, list[IPv4Network]]:  # fmt: skip
    """``by_key`` without the networks in ``gone``, and without keys left with none: a region's
    view of the policy indexes only the organisations (and pools) it still lists."""
    kept = {key: [n for n in nets if n not in gone] for key, nets in by_key.items()}
    return {key: nets for key, nets in kept.items() if nets}


def disjoint(nets: Iterable[IPv4Network]) -> list[IPv4Network]:
    """Sorted, without duplicates and without networks inside another one.

    CIDR blocks overlap only by containment, so the result has no overlapping intervals,
    which nft interval sets require. Adjacent blocks are kept apart on purpose: merging
    them (``collapse_addresses``) costs ~10x more for 10,000 CIDRs and nft needs no merge.
    """
    out: list[IPv4Network] = []
    end = -1
    for net in sorted(set(nets), key=lambda n: (int(n.network_address), n.prefixlen)):
        if int(net.broadcast_address) > end:
            out.append(net)
            end = int(net.broadcast_address)
    return out


def _check_org(org_id: int) -> None:
    if not 0 < org_id <= _MAX_MARK:
        raise ValueError(f"organisation id {org_id} cannot be a packet mark (1..2**32-1)")


def _eligible_devices(endpoints: Iterable[Endpoint]) -> tuple[dict[int, int], list[str]]:
    """Eligible device address -> org; an address claimed by two organisations (eligible or
    not) is left out, since granting either claim could open a cross-organisation path."""
    device_org: dict[int, int] = {}
    claimed: dict[int, int] = {}
    clashes: set[int] = set()
    for e in endpoints:
        addr = ip_int(e.ip)
        if claimed.setdefault(addr, e.org_id) != e.org_id:
            clashes.add(addr)
        if e.eligible:
            _check_org(e.org_id)
            device_org[addr] = e.org_id
    for addr in clashes:
        device_org.pop(addr, None)
    conflicts = [
        f"device address {ip_str(a)} is used in more than one organisation; left out of the policy"
        for a in sorted(clashes)
    ]
    return dict(sorted(device_org.items())), conflicts


# --- nftables -----------------------------------------------------------------------------

_CHAINS = """\
    chain forward {
        type filter hook forward priority filter; policy accept;
        ip daddr @customer_space jump to_customer
        ip saddr @customer_space jump from_customer
    }

    chain to_customer {
        # Mark 0 first: a failed map lookup leaves the mark untouched, and 0 never matches.
        meta mark set 0x0
        meta mark set ip saddr map @device_org
        meta mark . ip daddr @org_cidrs goto to_region
        drop
    }

    chain from_customer {
        meta mark set 0x0
        meta mark set ip daddr map @device_org
        meta mark . ip saddr @org_cidrs goto from_region
        drop
    }

    chain to_region {
        # A CIDR served to some regions' devices only: the device's pool must be one of them.
        ip daddr != @regional_space accept
        ip saddr . ip daddr @pool_cidrs accept
        drop
    }

    chain from_region {
        ip saddr != @regional_space accept
        ip daddr . ip saddr @pool_cidrs accept
        drop
    }
"""


def _elements(items: list[str]) -> str:
    """One element per line (diffable), lightly indented: ~40 bytes a device."""
    if not items:
        return ""  # nft refuses an empty ``elements = { }``
    body = ",\n            ".join(items)
    return f"        elements = {{\n            {body}\n        }}\n"


def render_ruleset(policy: CorePolicy) -> str:
    """Render ``policy`` for ``nft -f``: delete and re-create the table in one transaction.

    The leading ``table ...`` line creates the table if absent so the ``delete`` never fails
    on a fresh gateway; nft applies the whole file atomically or not at all.
    """
    devices = [f"{ip_str(a)} : 0x{o:08x}" for a, o in policy.device_org.items()]
    pairs = [f"0x{o:08x} . {n}" for o, nets in policy.org_cidrs.items() for n in nets]
    space = [str(n) for n in policy.customer_space]
    regional = [str(n) for n in policy.regional_space]
    by_pool = [f"{p} . {n}" for p, nets in policy.pool_cidrs.items() for n in nets]
    return (
        "#!/usr/sbin/nft -f\n"
        "# Generated by linkplane: the core policy. Do not edit; regenerate.\n"
        f"table inet {TABLE}\n"
        f"delete table inet {TABLE}\n"
        f"table inet {TABLE} {{\n"
        "    set customer_space {\n        type ipv4_addr; flags interval;\n"
        f"{_elements(space)}    }}\n\n"
        "    map device_org {\n        type ipv4_addr : mark;\n"
        f"{_elements(devices)}    }}\n\n"
        "    set org_cidrs {\n        type mark . ipv4_addr; flags interval;\n"
        f"{_elements(pairs)}    }}\n\n"
        "    set regional_space {\n        type ipv4_addr; flags interval;\n"
        f"{_elements(regional)}    }}\n\n"
        "    set pool_cidrs {\n        type ipv4_addr . ipv4_addr; flags interval;\n"
        f"{_elements(by_pool)}    }}\n\n"
        f"{_CHAINS}"
        "}\n"
    )


_SET_RE = re.compile(r"(?:set|map) (\w+) \{[^{}]*?(?:elements = \{([^}]*)\})?\s*\}", re.S)


def parse_ruleset(text: str) -> CorePolicy:
    """Read back a ruleset written by :func:`render_ruleset`, or ``nft list table`` of it.

    Not a general nft parser: it reads the named sets and maps of our table only.
    """
    bodies: Mapping[str, str] = {m.group(1): m.group(2) or "" for m in _SET_RE.finditer(text)}
    device_org: dict[int, int] = {}
    for item in _split(bodies.get("device_org", "")):
        addr, _, hex_mark = item.partition(":")
        device_org[ip_int(addr)] = int(hex_mark.strip(), 16)
    org_cidrs: dict[int, list[IPv4Network]] = {}
    for item in _split(bodies.get("org_cidrs", "")):
        org, net = _pair(item)
        org_cidrs.setdefault(org, []).append(net)
    space = [as_network(s) for s in _split(bodies.get("customer_space", ""))]
    regional = [as_network(s) for s in _split(bodies.get("regional_space", ""))]
    pool_cidrs: dict[IPv4Network, list[IPv4Network]] = {}
    for item in _split(bodies.get("pool_cidrs", "")):
        pool, _, cidr = item.partition(" . ")
        pool_cidrs.setdefault(as_network(pool.strip()), []).append(as_network(cidr))
    return CorePolicy(device_org, org_cidrs, space, regional_space=regional, pool_cidrs=pool_cidrs)


def _pair(item: str) -> tuple[int, IPv4Network]:
    mark, _, net = item.partition(" . ")
    return int(mark.strip(), 16), as_network(net)


def _split(body: str) -> list[str]:
    return [p.strip() for p in body.split(",") if p.strip()]
