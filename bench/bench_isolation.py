"""Benchmark: core policy generation and isolation verification at fleet scale.

Full scale: 1,000 organisations, 5,000 breakouts, 10,000 TGW routes (9,999 customer CIDRs in
the core table + the device route in the customers table), 100,000 devices (90% eligible).
It also runs at 1/10 of that and prints how time and peak memory grow from 1/10 to full.

    .venv/bin/python bench/bench_isolation.py            # 1/10 and full
    .venv/bin/python bench/bench_isolation.py --quick    # 1/100 and 1/10 (a smoke run)

Regions: the same totals spread over three core regions (own device pools, peered pairwise;
an organisation's devices in one region, one breakout in five attached in the next region
and served over the peering) are verified region by region as ``linkplane verify`` does
(each region's TGW, the peering hops, the one gateway policy), and compared with the
one-region case of the same run at the larger scale.

Time is wall time of one run without tracemalloc; peak memory is tracemalloc's peak of a
second run of the same phase (Python allocations only). If ``nft`` can run, the rendered
ruleset is also checked (``nft -c -f``) and loaded into a throwaway network namespace.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from linkplane.cloud.port import RouteTableAssociation, TgwAttachment, TgwRoute, TgwRouteTable
from linkplane.network.cidrs import as_network
from linkplane.network.crossregion import PeeringHop, RegionTables, check_hops
from linkplane.network.policy import Breakout, CorePolicy, DeviceMap, Endpoint, parse_ruleset
from linkplane.network.routing import Topology
from linkplane.network.verify import Intent, verify

CORE, CUST, CORE_ATT = "tgw-rtb-core", "tgw-rtb-customers", "tgw-attach-core"
DEVICE_SPACE = IPv4Network("100.64.0.0/10")


@dataclass
class Fleet:
    orgs: int
    breakouts: list[Breakout]
    endpoints: list[Endpoint]
    device_ranges: dict[int, list[IPv4Network]]
    reads: dict[str, Any]


def make_fleet(scale: float) -> Fleet:
    """A clean synthetic fleet: 5 breakouts per org, 2 CIDRs each (one has 1), /22 per org."""
    orgs = round(1000 * scale)
    n_breakouts, n_devices = 5 * orgs, round(100_000 * scale)
    breakouts, cidr_no = [], 0
    for i in range(n_breakouts):
        k = 1 if i == 0 else 2  # 9,999 CIDRs at full scale: with 1 device route = 10,000
        cidrs = tuple(str(IPv4Network((0x0A000000 + (cidr_no + j) * 256, 24))) for j in range(k))
        cidr_no += k
        breakouts.append(Breakout(i // 5 + 1, cidrs, id=i + 1, attachment_id=f"tgw-attach-{i}"))
    ranges = {
        org: [IPv4Network((int(DEVICE_SPACE.network_address) + (org - 1) * 1024, 22))]
        for org in range(1, orgs + 1)
    }
    endpoints = []
    for d in range(n_devices):
        org = d % orgs + 1
        ip = IPv4Address(int(ranges[org][0].network_address) + d // orgs + 1)
        endpoints.append(Endpoint(org, str(ip), enabled=d % 10 != 0, id=d))
    return Fleet(orgs, breakouts, endpoints, ranges, cloud_reads(breakouts))


def cloud_reads(breakouts: list[Breakout]) -> dict[str, Any]:
    """What the cloud port would return for that fleet's TGW."""
    core_routes = [
        TgwRoute(CORE, c, "static", "active", (b.attachment_id or "",))
        for b in breakouts
        for c in b.cidrs
    ]
    cust_routes = [TgwRoute(CUST, str(DEVICE_SPACE), "static", "active", (CORE_ATT,))]
    atts = [TgwAttachment(CORE_ATT, "tgw-1", "vpc", "vpc-core", "123456789012", "available")]
    atts += [
        TgwAttachment(
            b.attachment_id or "", "tgw-1", "vpc", f"vpc-{b.id}", "111111111111", "available"
        )
        for b in breakouts
    ]
    assocs = [RouteTableAssociation(CORE, CORE_ATT, "vpc", "associated")]
    assocs += [RouteTableAssociation(CUST, a.id, "vpc", "associated") for a in atts[1:]]
    return {
        "route_tables": [
            TgwRouteTable(CORE, "tgw-1", "available"),
            TgwRouteTable(CUST, "tgw-1", "available"),
        ],
        "routes_by_table": {CORE: core_routes, CUST: cust_routes},
        "attachments": atts,
        "associations": assocs,
        "org_of_attachment": {b.attachment_id or "": b.org_id for b in breakouts},
    }


def generate_policy(fleet: Fleet) -> str:
    return CorePolicy.compute(fleet.endpoints, fleet.breakouts).render()


def run_verify(fleet: Fleet, ruleset: str) -> int:
    topo = Topology.from_reads(**fleet.reads)
    intent = Intent(
        CORE_ATT,
        CORE,
        CUST,
        fleet.breakouts,
        device_ranges=fleet.device_ranges,
        fleet=fleet.endpoints,
    )
    report = verify(topo, intent, policy=parse_ruleset(ruleset))
    if not report.ok:
        raise SystemExit(f"synthetic fleet should verify clean:\n{report.to_text()}")
    return report.counts["routes"]


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak MiB, result): timed run first, then a tracemalloc run for memory."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def match_cost(fleet: Fleet, samples: int = 20_000) -> float:
    """Microseconds per ``CorePolicy.allows`` call on a mix of allowed and refused pairs."""
    policy = CorePolicy.compute(fleet.endpoints, fleet.breakouts)
    cidrs = [IPv4Network(c) for b in fleet.breakouts for c in b.cidrs]
    pairs = [
        (
            fleet.endpoints[i * 7919 % len(fleet.endpoints)].ip,
            str(cidrs[i * 104729 % len(cidrs)].network_address + 5),
        )
        for i in range(samples)
    ]
    t0 = time.perf_counter()
    for src, dst in pairs:
        policy.allows(src, dst)
    return (time.perf_counter() - t0) / samples * 1e6


def nft_times(ruleset: str) -> tuple[float, float] | None:
    """(check seconds, load seconds in a fresh netns), or None when nft can't run here."""
    nft, unshare = shutil.which("nft"), shutil.which("unshare")
    if not nft or not unshare:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".nft") as f:
        f.write(ruleset)
        f.flush()
        t0 = time.perf_counter()
        check = subprocess.run([nft, "-c", "-f", f.name], capture_output=True, check=False)
        t1 = time.perf_counter()
        load = subprocess.run([unshare, "-n", nft, "-f", f.name], capture_output=True, check=False)
        t2 = time.perf_counter()
    if check.returncode or load.returncode:
        return None
    return t1 - t0, t2 - t1


def run_scale(scale: float) -> dict[str, Any]:
    fleet = make_fleet(scale)
    pol_s, pol_mb, ruleset = measure(lambda: generate_policy(fleet))
    ver_s, ver_mb, routes = measure(lambda: run_verify(fleet, ruleset))
    return {
        "label": f"{fleet.orgs} orgs / {len(fleet.breakouts)} breakouts / {routes} routes / "
        f"{len(fleet.endpoints)} devices",
        "policy": (pol_s, pol_mb),
        "verify": (ver_s, ver_mb),
        "ruleset_kib": len(ruleset) / 1024,
        "match_us": match_cost(fleet),
        "nft": nft_times(ruleset),
    }


def print_table(small: dict[str, Any], big: dict[str, Any]) -> None:
    print(f"small: {small['label']}\nlarge: {big['label']}\n")
    print(f"{'phase':<34}{'small':>12}{'large':>12}{'large/small':>13}")
    rows: list[tuple[str, float, float, str]] = []
    for phase in ("policy", "verify"):
        rows.append((f"{phase} time (s)", small[phase][0], big[phase][0], "{:.3f}"))
        rows.append((f"{phase} peak memory (MiB)", small[phase][1], big[phase][1], "{:.1f}"))
    rows.append(("ruleset size (KiB)", small["ruleset_kib"], big["ruleset_kib"], "{:.0f}"))
    rows.append(("policy.allows per call (us)", small["match_us"], big["match_us"], "{:.2f}"))
    for i, name in enumerate(("nft -c -f (s)", "nft -f load in netns (s)")):
        if small["nft"] and big["nft"]:
            rows.append((name, small["nft"][i], big["nft"][i], "{:.3f}"))
    for name, a, b, fmt in rows:
        print(f"{name:<34}{fmt.format(a):>12}{fmt.format(b):>12}{b / a:>12.1f}x")
    if not (small["nft"] and big["nft"]):
        print("(nft rows skipped: nft or unshare unavailable or not permitted)")


# --- three regions ---------------------------------------------------------------------------

POOLS = (IPv4Network("100.64.0.0/12"), IPv4Network("100.80.0.0/12"), IPv4Network("100.96.0.0/12"))


@dataclass
class RegionalFleet:
    """The same totals as :class:`Fleet` over ``len(pools)`` regions, one TGW each."""

    orgs: int
    breakouts: list[Breakout]
    endpoints: list[Endpoint]
    device_ranges: dict[int, list[IPv4Network]]
    home: dict[int, int]  # org -> the region its devices break out in
    attached: dict[int | str, int]  # breakout id -> the region it is attached in
    reads: list[dict[str, Any]]

    @property
    def regions(self) -> int:
        return len(self.reads)


def _ids(r: int) -> tuple[str, str, str, str]:
    return f"{CORE}-{r}", f"{CUST}-{r}", f"tgw-rtb-peering-{r}", f"{CORE_ATT}-{r}"


def _peering(a: int, b: int) -> str:
    return f"tgw-attach-peering-{min(a, b)}{max(a, b)}"


def make_regional_fleet(scale: float, pools: tuple[IPv4Network, ...] = POOLS) -> RegionalFleet:
    n = len(pools)
    orgs = round(1000 * scale)
    home = {org: (org - 1) % n for org in range(1, orgs + 1)}
    ranges = {
        org: [IPv4Network((int(pools[home[org]].network_address) + (org - 1) // n * 1024, 22))]
        for org in home
    }
    breakouts, attached, cidr_no = [], {}, 0
    for i in range(5 * orgs):
        org, k = i // 5 + 1, 1 if i == 0 else 2
        cidrs = tuple(str(IPv4Network((0x0A000000 + (cidr_no + j) * 256, 24))) for j in range(k))
        cidr_no += k
        where = (home[org] + 1) % n if i % 5 == 4 else home[org]
        served = sorted({str(pools[where]), str(pools[home[org]])})
        breakouts.append(Breakout(org, cidrs, id=i + 1, attachment_id=f"tgw-attach-{i}",
                                  pools=tuple(served)))  # fmt: skip
        attached[i + 1] = where
    endpoints = []
    for d in range(round(100_000 * scale)):
        org = d % orgs + 1
        ip = IPv4Address(int(ranges[org][0].network_address) + d // orgs + 1)
        endpoints.append(Endpoint(org, str(ip), enabled=d % 10 != 0, id=d))
    fleet = RegionalFleet(orgs, breakouts, endpoints, ranges, home, attached, [])
    fleet.reads = [_region_reads(fleet, r, pools) for r in range(n)]
    return fleet


def _region_reads(fleet: RegionalFleet, r: int, pools: tuple[IPv4Network, ...]) -> dict[str, Any]:
    """What the cloud port would return for region ``r``'s TGW."""
    core, cust, peer, core_att = _ids(r)
    here = [b for b in fleet.breakouts if fleet.attached[b.id] == r]
    served_here = [b for b in fleet.breakouts
                   if fleet.home[b.org_id] == r and fleet.attached[b.id] != r]  # fmt: skip
    away = [b for b in here if fleet.home[b.org_id] != r]
    peerings = {x: _peering(r, x) for x in range(len(pools)) if x != r}
    core_routes = [TgwRoute(core, c, "static", "active", (b.attachment_id or "",))
                   for b in here for c in b.cidrs]  # fmt: skip
    core_routes += [TgwRoute(core, c, "static", "active", (peerings[fleet.attached[b.id]],))
                    for b in served_here for c in b.cidrs]  # fmt: skip
    cust_routes = [TgwRoute(cust, str(pools[r]), "static", "active", (core_att,))]
    cust_routes += [TgwRoute(cust, str(pools[x]), "static", "active", (p,))
                    for x, p in peerings.items()]  # fmt: skip
    peer_routes = [TgwRoute(peer, str(pools[r]), "static", "active", (core_att,))]
    peer_routes += [TgwRoute(peer, c, "static", "active", (b.attachment_id or "",))
                    for b in away for c in b.cidrs]  # fmt: skip
    tgw = f"tgw-{r}"
    atts = [TgwAttachment(core_att, tgw, "vpc", f"vpc-core-{r}", "123456789012", "available")]
    atts += [TgwAttachment(b.attachment_id or "", tgw, "vpc", f"vpc-{b.id}", "111111111111",
                           "available") for b in here]  # fmt: skip
    atts += [TgwAttachment(p, tgw, "peering", f"tgw-{x}", "123456789012", "available")
             for x, p in peerings.items()]  # fmt: skip
    assocs = [RouteTableAssociation(core, core_att, "vpc", "associated")]
    assocs += [RouteTableAssociation(cust, b.attachment_id or "", "vpc", "associated")
               for b in here]  # fmt: skip
    assocs += [RouteTableAssociation(peer, p, "peering", "associated") for p in peerings.values()]
    return {
        "route_tables": [TgwRouteTable(t, tgw, "available") for t in (core, cust, peer)],
        "routes_by_table": {core: core_routes, cust: cust_routes, peer: peer_routes},
        "attachments": atts,
        "associations": assocs,
        "org_of_attachment": {b.attachment_id or "": b.org_id for b in here},
    }


def generate_regional_policy(fleet: RegionalFleet) -> str:
    return CorePolicy.compute(fleet.endpoints, fleet.breakouts).render()


def run_regional_verify(fleet: RegionalFleet, ruleset: str, pools: tuple[IPv4Network, ...] = POOLS
                        ) -> int:  # fmt: skip
    """Every region's TGW, the peering hops and the gateway policy, as ``verify`` does."""
    applied = parse_ruleset(ruleset)
    topologies = [Topology.from_reads(**reads) for reads in fleet.reads]
    hops = [
        PeeringHop(b.org_id, int(b.id), IPv4Network(c), b.attachment_id or "",
                   _peering(fleet.attached[b.id], fleet.home[b.org_id]), str(fleet.attached[b.id]),
                   str(fleet.home[b.org_id]), tuple(fleet.device_ranges[b.org_id]))
        for b in fleet.breakouts if fleet.attached[b.id] != fleet.home[b.org_id] for c in b.cidrs
    ]  # fmt: skip
    routes, problems = 0, []
    devices = DeviceMap.of(fleet.endpoints)
    for r, topo in enumerate(topologies):
        report = verify(topo, _regional_intent(fleet, r, pools, hops, devices),
                        policy=_regional_policy(applied, fleet, r, hops))  # fmt: skip
        routes += report.counts["routes"]
        problems += [f.message for f in report.findings]
    tables = {str(r): RegionTables(topo, _ids(r)[0], _ids(r)[1], _ids(r)[3], pools[r], _ids(r)[2])
              for r, topo in enumerate(topologies)}  # fmt: skip
    problems += [f.message for found in check_hops(hops, tables).values() for f in found]
    if problems:
        raise SystemExit("synthetic regions should verify clean:\n" + "\n".join(problems[:20]))
    return routes


def _regional_intent(fleet: RegionalFleet, r: int, pools: tuple[IPv4Network, ...],
                     hops: list[PeeringHop], devices: DeviceMap) -> Intent:  # fmt: skip
    core, cust, _, core_att = _ids(r)
    into = {h.breakout_id for h in hops if h.device_region == str(r)}
    return Intent(
        core_att, core, cust, [b for b in fleet.breakouts if fleet.attached[b.id] == r],
        device_space=[pools[r]],
        device_ranges={o: rs for o, rs in fleet.device_ranges.items() if fleet.home[o] == r},
        fleet=fleet.endpoints,
        devices=devices,
        remote_core_routes={h.cidr: h.peering_id for h in hops if h.device_region == str(r)},
        remote_breakouts=[b for b in fleet.breakouts if b.id in into],
        peer_pool_routes={pools[x]: _peering(r, x) for x in range(len(pools)) if x != r},
    )


def _regional_policy(applied: CorePolicy, fleet: RegionalFleet, r: int,
                     hops: list[PeeringHop]) -> CorePolicy:  # fmt: skip
    """The gateway policy without the CIDRs region ``r``'s devices do not reach (parsed with
    the cached ``as_network``, as ``linkplane verify`` does)."""
    served = {h.cidr for h in hops if h.device_region == str(r)}
    others = {as_network(c) for b in fleet.breakouts if fleet.attached[b.id] != r
              for c in b.cidrs}  # fmt: skip
    return applied.without(others - served)


def run_regions(scale: float) -> dict[str, Any]:
    fleet = make_regional_fleet(scale)
    pol_s, pol_mb, ruleset = measure(lambda: generate_regional_policy(fleet))
    ver_s, ver_mb, routes = measure(lambda: run_regional_verify(fleet, ruleset))
    remote = sum(1 for b in fleet.breakouts if fleet.attached[b.id] != fleet.home[b.org_id])
    return {
        "label": f"{fleet.orgs} orgs / {len(fleet.breakouts)} breakouts ({remote} across a "
        f"peering) / {routes} routes / {len(fleet.endpoints)} devices in {fleet.regions} regions",
        "policy": (pol_s, pol_mb),
        "verify": (ver_s, ver_mb),
        "ruleset_kib": len(ruleset) / 1024,
        "match_us": 0.0,
        "nft": nft_times(ruleset),
    }


def print_regions(one: dict[str, Any], three: dict[str, Any]) -> None:
    print(f"\none region:    {one['label']}\nthree regions: {three['label']}\n")
    print(f"{'phase':<34}{'1 region':>12}{'3 regions':>12}{'3 / 1':>13}")
    rows: list[tuple[str, float, float, str]] = []
    for phase in ("policy", "verify"):
        rows.append((f"{phase} time (s)", one[phase][0], three[phase][0], "{:.3f}"))
        rows.append((f"{phase} peak memory (MiB)", one[phase][1], three[phase][1], "{:.1f}"))
    rows.append(("ruleset size (KiB)", one["ruleset_kib"], three["ruleset_kib"], "{:.0f}"))
    if one["nft"] and three["nft"]:
        rows.append(("nft -f load in netns (s)", one["nft"][1], three["nft"][1], "{:.3f}"))
    for name, a, b, fmt in rows:
        print(f"{name:<34}{fmt.format(a):>12}{fmt.format(b):>12}{b / a:>12.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/100 and 1/10 instead")
    args = parser.parse_args()
    small, big = (0.01, 0.1) if args.quick else (0.1, 1.0)
    large = run_scale(big)
    print_table(run_scale(small), large)
    print_regions(large, run_regions(big))


if __name__ == "__main__":
    main()
