"""The lab: real packets through Linux network namespaces, forwarded as the cloud says.

Namespaces (``<p>`` is ``lp`` + 5 hex digits of the data directory, so labs of different
data directories never collide):

- ``<p>-org<id>``: one device host per organisation, holding its endpoints' addresses (/32s
  from its IP space) -- the devices behind the mobile core.
- ``<p>-core``: the core gateway. Routes devices to their host and everything else to the
  transit namespace; the generated nftables policy is loaded here (``apply_policy``).
- ``<p>-tgw``: the Transit Gateway. One veth per TGW attachment (``a<n>``); one kernel routing
  table per TGW route table, programmed from the live routes (``search_routes``); policy
  routing picks the table by the interface a packet arrives on (``ip rule iif a<n>``), i.e.
  the attachment's association, and a ``prohibit`` rule after it stops any fall-through
  (this kernel has no VRF devices; rules per ingress interface do the same job).
- ``<p>-vpc<breakout id>``: one customer VPC host per breakout attachment, one address in each
  of its CIDRs.

Links are /30s of 169.254.0.0/16, upstream side ``.1``. Everything is created inside the
namespaces (``ip link add ... netns``): the host's own interfaces and routes are untouched.
:func:`up` is idempotent and is also the re-sync: it adds hosts for new breakouts, reprograms
the transit tables from the cloud and reloads the policy. :func:`down` deletes the namespaces
and the listeners it started. State: ``<data_dir>/lab/state.json``.

Several bootstrapped regions (issue 11): the region :func:`up` is given (else the first)
keeps these names and holds the devices of its pool; every other region gets a site of its
own (:class:`RegionSite`: ``<p>-r<n>-core``, ``-tgw``, ``-org<id>``, ``-vpc<id>``) with the
devices of its pool, its transit programmed from its own TGW, and one veth between the
transit namespaces per recorded peering, playing the peering attachment. The one policy
(it knows each region's pool) is loaded into every core.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkplane.errors import LinkplaneError
from linkplane.isolation import gateway, service
from linkplane.isolation.service import CloudFor, Factory
from linkplane.isolation.state import CloudState, Desired, RegionSpec, load_desired, read_cloud
from linkplane.network.cidrs import as_network
from linkplane.settings import Settings

PROBE = str(Path(__file__).with_name("probe.py"))
LAB_PORT = 7400
MAX_DEVICES = 16  # per organisation: enough to try things, cheap to create
_TABLE_BASE = 100


class LabError(LinkplaneError):
    code = "lab_failed"


def available() -> str | None:
    """Why the lab cannot run here (None when it can): root, ``ip netns``, ``nft``."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, nftables)"
    try:
        run("ip", "netns", "list")
        run("nft", "--version")
    except LabError as exc:
        return f"ip netns / nft do not work here: {exc}"
    return None


def run(*cmd: str) -> str:
    """Run one command; its failure is a LabError carrying stderr."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed programs, arguments we built
            cmd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{' '.join(cmd)}: {exc}") from exc
    if done.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def ns_run(ns: str, *cmd: str) -> str:
    return run("ip", "netns", "exec", ns, *cmd)


# --- state ----------------------------------------------------------------------------------
@dataclass
class LabState:
    prefix: str
    region: str = ""
    namespaces: list[str] = field(default_factory=list)
    links: dict[str, int] = field(default_factory=lambda: {"core": 0})
    pids: list[int] = field(default_factory=list)
    #: device host namespace -> its addresses; VPC host namespace -> its addresses.
    hosts: dict[str, list[str]] = field(default_factory=dict)
    #: Further core regions (issue 11): region name -> namespace prefix of its site.
    sites: dict[str, str] = field(default_factory=dict)
    #: Peering attachment -> the site namespace prefix holding the upstream end of its link.
    peer_upstream: dict[str, str] = field(default_factory=dict)

    @property
    def core_netns(self) -> str:
        return f"{self.prefix}-core"

    @property
    def tgw_netns(self) -> str:
        return f"{self.prefix}-tgw"

    def link(self, key: str) -> int:
        if key not in self.links:
            self.links[key] = max(self.links.values()) + 1
        return self.links[key]

    def to_json(self) -> str:
        data = {"core_netns": self.core_netns, "prefix": self.prefix, "region": self.region,
                "namespaces": self.namespaces, "links": self.links, "pids": self.pids,
                "hosts": self.hosts, "sites": self.sites,
                "peer_upstream": self.peer_upstream}  # fmt: skip
        return json.dumps(data, indent=2, sort_keys=True)


@dataclass(frozen=True)
class RegionSite:
    """Where one core region lives in the lab: namespaces ``<ns>-core``, ``<ns>-tgw``,
    ``<ns>-org<id>``, ``<ns>-vpc<id>``; link keys prefixed ``key``; devices of ``pool`` (all
    devices when empty: one region). The first region keeps the one-region names."""

    ns: str
    key: str
    pool: str


def state_path(settings: Settings) -> Path:
    return settings.data_dir / gateway.LAB_STATE


def load_state(settings: Settings) -> LabState | None:
    path = state_path(settings)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return LabState(data["prefix"], data.get("region", ""), data["namespaces"], data["links"],
                    data["pids"], data.get("hosts", {}), data.get("sites", {}),
                    data.get("peer_upstream", {}))  # fmt: skip


def _save(settings: Settings, state: LabState) -> None:
    gateway.write_atomically(state_path(settings), state.to_json())


def prefix_for(settings: Settings) -> str:
    return "lp" + hashlib.sha1(str(settings.data_dir.resolve()).encode()).hexdigest()[:5]  # noqa: S324


def addr(index: int, side: int) -> str:
    """Side 1 (upstream: core for devices, transit for attachments) or 2 of link ``index``."""
    return f"169.254.{index // 64}.{(index % 64) * 4 + side}"


# --- building --------------------------------------------------------------------------------
def _ensure_ns(state: LabState, ns: str) -> bool:
    """Create ``ns`` (forwarding on, reverse-path filter off); False if it existed."""
    if ns in run("ip", "netns", "list").split():
        return False
    run("ip", "netns", "add", ns)
    state.namespaces.append(ns)
    ns_run(ns, "ip", "link", "set", "lo", "up")
    for key in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0"):  # fmt: skip
        ns_run(ns, "sysctl", "-qw", key)
    return True


def _veth(up_ns: str, up_if: str, down_ns: str, down_if: str, index: int) -> None:
    run("ip", "link", "add", up_if, "netns", up_ns, "type", "veth",
        "peer", "name", down_if, "netns", down_ns)  # fmt: skip
    ns_run(up_ns, "ip", "addr", "add", f"{addr(index, 1)}/30", "dev", up_if)
    ns_run(down_ns, "ip", "addr", "add", f"{addr(index, 2)}/30", "dev", down_if)
    ns_run(up_ns, "ip", "link", "set", up_if, "up")
    ns_run(down_ns, "ip", "link", "set", down_if, "up")


def _host(state: LabState, ns: str, up_ns: str, key: str, addrs: list[str]) -> None:
    """A leaf host behind ``up_ns``: its addresses on eth0, default route upstream."""
    index = state.link(key)
    if _ensure_ns(state, ns):
        _veth(up_ns, f"a{index}", ns, "eth0", index)
        ns_run(ns, "ip", "route", "add", "default", "via", addr(index, 1), "dev", "eth0")
        state.pids.append(_serve(ns))
    for a in addrs:
        if a not in state.hosts.get(ns, []):
            ns_run(ns, "ip", "addr", "add", f"{a}/32", "dev", "eth0")
    state.hosts[ns] = sorted(set(state.hosts.get(ns, [])) | set(addrs))


def _serve(ns: str) -> int:
    """A TCP listener on LAB_PORT in ``ns``, for TCP probes; killed by :func:`down`."""
    cmd = ["ip", "netns", "exec", ns, sys.executable, PROBE, "serve", str(LAB_PORT)]
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, our probe file
        cmd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    return proc.pid


def _core_and_transit(state: LabState) -> None:
    core, tgw = state.core_netns, state.tgw_netns
    _ensure_ns(state, tgw)
    if _ensure_ns(state, core):
        _veth(tgw, "a0", core, "tgw0", 0)
        ns_run(core, "ip", "route", "add", "default", "via", addr(0, 1), "dev", "tgw0")


def _device_hosts(state: LabState, desired: Desired, site: RegionSite | None = None) -> None:
    """Device hosts behind the core of ``site`` (the first region when None); with several
    regions only the devices of the site's pool: they break out there."""
    site = site or RegionSite(state.prefix, "", "")
    core = f"{site.ns}-core"
    by_org: dict[int, list[str]] = {}
    for e in sorted(desired.endpoints, key=lambda e: str(e.id)):
        if not site.pool or as_network(e.ip).subnet_of(as_network(site.pool)):
            by_org.setdefault(e.org_id, []).append(e.ip)
    for org_id, ips in sorted(by_org.items()):
        ns, key = f"{site.ns}-org{org_id}", f"{site.key}org:{org_id}"
        devices = ips[:MAX_DEVICES]
        _host(state, ns, core, key, devices)
        index = state.links[key]
        for ip in devices:  # the core routes each device to its host
            ns_run(core, "ip", "route", "replace", f"{ip}/32", "via", addr(index, 2),
                   "dev", f"a{index}")  # fmt: skip


def vpc_address(cidr: str) -> str:
    """The VPC host's address in ``cidr``: the 10th host, or the first in tiny blocks."""
    net = as_network(cidr)
    return str(net.network_address + (10 if net.num_addresses > 16 else 1))


def _vpc_hosts(state: LabState, desired: Desired, region: str,
               site: RegionSite | None = None) -> None:  # fmt: skip
    site = site or RegionSite(state.prefix, "", "")
    for b in desired.in_region(region):
        if b.attachment_id and not b.vpn_connection_id:  # VPN sites: lab_vpn builds them
            ns = f"{site.ns}-vpc{b.id}"
            _host(state, ns, f"{site.ns}-tgw", f"{site.key}att:{b.attachment_id}",
                  [vpc_address(c) for c in b.cidrs])  # fmt: skip


# --- the transit namespace: TGW route tables as kernel tables ---------------------------------
def _interfaces(state: LabState, region: RegionSpec,
                site: RegionSite | None = None) -> dict[str, tuple[int, str]]:  # fmt: skip
    """Attachment id -> (link index of its veth in the site's transit namespace, the address
    of the far end): attachments of the site's region and the region peerings."""
    site = site or RegionSite(state.prefix, "", "")
    att = f"{site.key}att:"
    found = {k.removeprefix(att): (i, addr(i, 2)) for k, i in state.links.items()
             if k.startswith(att)}  # fmt: skip
    core = state.links.get(f"{site.key}core", 0)
    found[region.core_attachment_id] = (core, addr(core, 2))
    for p in region.peerings:  # the upstream end is the site listed first (state.sites)
        index = state.links.get(f"peer:{p.attachment_id}")
        if index is not None:
            upstream = state.peer_upstream.get(p.attachment_id) == site.ns
            found[p.attachment_id] = (index, addr(index, 2 if upstream else 1))
    return found


def _clear(tgw: str) -> None:
    """Remove our rules and empty our tables (the kernel drops a table with its last route)."""
    rules = json.loads(run("ip", "-j", "-n", tgw, "rule", "show") or "[]")
    for rule in rules:
        if rule.get("priority") in (100, 200):
            run("ip", "-n", tgw, "rule", "del", "pref", str(rule["priority"]))
    routes = json.loads(run("ip", "-j", "-n", tgw, "route", "show", "table", "all") or "[]")
    tables = {str(r["table"]) for r in routes if str(r.get("table", "")).isdigit()}
    for table in sorted(t for t in tables if int(t) >= _TABLE_BASE):
        run("ip", "-n", tgw, "route", "flush", "table", table)


def program_transit(state: LabState, cloud: CloudState, region: RegionSpec,
                    site: RegionSite | None = None) -> dict[str, int]:  # fmt: skip
    """Make the transit namespace forward as the TGW does now; returns table id -> number."""
    tgw = f"{site.ns}-tgw" if site else state.tgw_netns
    tables = {t.id: _TABLE_BASE + i for i, t in enumerate(sorted(cloud.tables, key=lambda t: t.id))}
    _clear(tgw)
    ifaces = _interfaces(state, region, site)
    for table_id, routes in cloud.routes.items():
        for r in routes:
            if ":" in r.cidr or table_id not in tables:
                continue
            hop = ifaces.get(r.attachment_ids[0]) if r.attachment_ids else None
            where = (["via", hop[1], "dev", f"a{hop[0]}", "onlink"]
                     if hop is not None and r.state == "active" else [])  # fmt: skip
            kind = [] if where else ["blackhole"]
            run("ip", "-n", tgw, "route", "replace", *kind, r.cidr, *where,
                "table", str(tables[table_id]))  # fmt: skip
    live = {a.id for a in cloud.attachments if a.state in ("available", "modifying")}
    assoc = {a.attachment_id: a.route_table_id for a in cloud.associations
             if a.state == "associated"}  # fmt: skip
    for att, (index, _) in sorted(ifaces.items(), key=lambda kv: kv[1]):
        table = tables.get(assoc.get(att, ""))
        if att in live and table is not None:
            run("ip", "-n", tgw, "rule", "add", "iif", f"a{index}", "lookup", str(table),
                "pref", "100")  # fmt: skip
        run("ip", "-n", tgw, "rule", "add", "iif", f"a{index}", "prohibit", "pref", "200")
    return tables


# --- further core regions (issue 11) ----------------------------------------------------------
def _site(state: LabState, region: RegionSpec) -> RegionSite:
    """The site of a region other than the first; its index is kept across re-syncs."""
    if region.name not in state.sites:
        state.sites[region.name] = f"{state.prefix}-r{len(state.sites) + 1}"
    ns = state.sites[region.name]
    return RegionSite(ns, ns.removeprefix(f"{state.prefix}-"), region.device_cidr)


def _site_core(state: LabState, site: RegionSite) -> None:
    """The site's core gateway and transit namespaces, linked as the first region's are."""
    core, tgw, index = f"{site.ns}-core", f"{site.ns}-tgw", state.link(f"{site.key}core")
    _ensure_ns(state, tgw)
    if _ensure_ns(state, core):
        _veth(tgw, f"a{index}", core, "tgw0", index)
        ns_run(core, "ip", "route", "add", "default", "via", addr(index, 1), "dev", "tgw0")


def _peering_links(state: LabState, sites: dict[str, RegionSite],
                   regions: list[RegionSpec]) -> None:  # fmt: skip
    """One veth between the transit namespaces of each peered pair of lab regions: the
    peering attachment, ``a<n>`` on both ends, upstream in the region listed first."""
    order = [r.name for r in regions]
    for r in regions:
        for p in r.peerings:
            key = f"peer:{p.attachment_id}"
            if p.peer_region not in sites or key in state.links:
                continue
            first, second = sorted((r.name, p.peer_region), key=order.index)
            index = state.link(key)
            up_ns, down_ns = sites[first].ns, sites[second].ns
            _veth(f"{up_ns}-tgw", f"a{index}", f"{down_ns}-tgw", f"a{index}", index)
            state.peer_upstream[p.attachment_id] = up_ns


def _build_regions(state: LabState, desired: Desired, first: RegionSpec) -> list[
        tuple[RegionSpec, RegionSite]]:  # fmt: skip
    """The other bootstrapped regions' sites and the peering links; returns them."""
    built = [(r, _site(state, r)) for r in desired.regions if r.name != first.name]
    for region, site in built:
        _site_core(state, site)
        _device_hosts(state, desired, site)
        _vpc_hosts(state, desired, region.name, site)
    sites = {first.name: RegionSite(state.prefix, "", first.device_cidr)}
    sites.update({r.name: site for r, site in built})
    _peering_links(state, sites, [first, *(r for r, _ in built)])
    return built


# --- up / down ------------------------------------------------------------------------------
@dataclass
class LabSummary:
    state: LabState
    tables: dict[str, int]
    policy: service.PolicyResult


def up(*, settings: Settings, factory: Factory, cloud_for: CloudFor,
       region: str | None = None) -> LabSummary:  # fmt: skip
    """Build (or re-sync) the lab from the database and the cloud's live state."""
    reason = available()
    if reason:
        raise LabError(reason)
    with factory() as session:
        desired = load_desired(session)
    spec = desired.region(region) if region else next(iter(desired.regions), None)
    if spec is None:
        raise LabError(f"no bootstrapped region {region or ''}; run linkplane up first")
    cloud = read_cloud(cloud_for(spec.name), spec, shares=False)
    state = load_state(settings) or LabState(prefix_for(settings), spec.name)
    several = len(desired.regions) > 1
    built: list[tuple[RegionSpec, RegionSite]] = []
    try:
        _core_and_transit(state)
        _device_hosts(state, desired, RegionSite(state.prefix, "", spec.device_cidr)
                      if several else None)  # fmt: skip
        _vpc_hosts(state, desired, spec.name)
        built = _build_regions(state, desired, spec) if several else []
    finally:
        _save(settings, state)  # whatever was created, down can remove
    tables = program_transit(state, cloud, spec)
    for other, site in built:
        program_transit(state, read_cloud(cloud_for(other.name), other, shares=False),
                        other, site)  # fmt: skip
    policy = service.apply_policy(settings=settings, factory=factory, force=True)
    for _, site in built:  # the same policy (it knows every region's pool) in every core
        gateway.load(f"{site.ns}-core", Path(policy.path))
    return LabSummary(state, tables, policy)


def down(*, settings: Settings) -> list[str]:
    """Stop the lab's listeners and delete its namespaces (veths go with them)."""
    state = load_state(settings)
    prefix = state.prefix if state else prefix_for(settings)
    for pid in state.pids if state else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    removed = []
    for ns in run("ip", "netns", "list").split():
        if ns.startswith(f"{prefix}-"):
            run("ip", "netns", "del", ns)
            removed.append(ns)
    state_path(settings).unlink(missing_ok=True)
    return removed


# --- probes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    kind: str  # ping | tcp
    src_ns: str
    src: str
    dst: str
    ok: bool


def probe(ns: str, kind: str, src: str, dst: str, timeout: float = 1.0) -> bool:
    """One ICMP echo or TCP connect from ``src`` in ``ns``; True when answered."""
    extra = [str(LAB_PORT)] if kind == "tcp" else []
    cmd = ["ip", "netns", "exec", ns, sys.executable, PROBE, kind, src, dst, *extra, str(timeout)]
    done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)  # noqa: S603
    return done.returncode == 0


def matrix(state: LabState, *, timeout: float = 1.0) -> list[Probe]:
    """Ping and TCP from every device host's first address to every VPC (and VPN on-prem)
    host address, and back, in parallel (blocked probes each wait ``timeout``)."""
    devices = {ns: a[0] for ns, a in state.hosts.items() if "-org" in ns and a}
    vpcs = {ns: a for ns, a in state.hosts.items() if "-vpc" in ns or "-onprem" in ns}
    jobs: list[tuple[str, str, str, str]] = []
    for dev_ns, dev in sorted(devices.items()):
        for vpc_ns, addrs in sorted(vpcs.items()):
            for kind in ("ping", "tcp"):
                jobs += [(kind, dev_ns, dev, a) for a in addrs]
                jobs += [(kind, vpc_ns, a, dev) for a in addrs]
    with ThreadPoolExecutor(max_workers=16) as pool:
        oks = list(pool.map(lambda j: probe(j[1], j[0], j[2], j[3], timeout), jobs))
    return [Probe(k, ns, s, d, ok) for (k, ns, s, d), ok in zip(jobs, oks, strict=True)]


def describe(summary: LabSummary) -> list[str]:
    s = summary.state
    lines = [f"lab {s.prefix} (region {s.region}): core gateway {s.core_netns}, "
             f"transit {s.tgw_netns} with {len(summary.tables)} route table(s)"]  # fmt: skip
    for name, ns in sorted(s.sites.items()):
        lines.append(f"  region {name}: core gateway {ns}-core, transit {ns}-tgw")
    for ns, addrs in sorted(s.hosts.items()):
        lines.append(f"  {ns}: {', '.join(addrs)}")
    lines.append(f"  policy {summary.policy.digest[:12]} loaded into {summary.policy.loaded_into}")
    return lines


def to_dict(probes: Iterable[Probe]) -> list[dict[str, Any]]:
    return [p.__dict__ for p in probes]
