"""The lab's IPsec VPN breakouts: real IKEv2 tunnels (strongSwan) and, for types 3 and 4, real
BGP (BIRD).

For every Active VPN breakout of the lab's region (``<id>`` is the breakout id), per VPN
connection (type 4's second: ``<id>b``, a second customer site behind the second VPN server):

- ``<p>-aws<id>``: AWS's two tunnel endpoints, configured only from the cloud: the VPN
  connection as ``DescribeVpnConnections`` gives it (outside addresses, inside CIDRs, PSKs) and,
  for BGP, the routes AWS advertises (those of the TGW table the ``vpn`` attachment is
  associated with). Its ``tgw0`` is the ``vpn`` attachment's link into the transit namespace:
  whatever arrives from the TGW goes into the tunnels, whatever leaves them goes to the TGW.
- ``<p>-site<id>``: the customer's VPN router, configured only from
  ``vpn_configuration?vendor=strongswan``: that swanctl.conf is loaded as served, and the
  router's addresses, routes and BGP session are read from it.
- ``<p>-onprem<id>``: a host in the on-prem CIDRs behind the router, with the TCP listener.

Type 4's served configuration covers both VPN servers; :func:`per_server` cuts it into each
router's half. :func:`stop_router` fails a router for real (the tunnel watch then fails over).

The outside namespaces share one veth (``inet0``), the only "Internet" they have: the customer's
public address and AWS's outside addresses exist there and nowhere else.

This kernel has no XFRM: strongSwan's ``kernel-libipsec`` does ESP in user space through a
TUN device (``ipsec0``) in each namespace, so routes (not kernel policies) steer packets into
the tunnels, which is how AWS's route-based tunnels behave anyway.

What AWS's side observes (tunnels up, BGP-learned prefixes) is reported through
:class:`AwsReports`; the embedded cloud turns it into ``VgwTelemetry`` and propagated routes as
AWS would, and the transit namespace is then reprogrammed from the cloud. A prefix a customer
advertises therefore reaches a TGW table only if the cloud put it there.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from linkplane.attachments import service as breakouts
from linkplane.attachments.models import Breakout as BreakoutRow
from linkplane.attachments.vpn import AMAZON_SIDE_ASN
from linkplane.cloud.port import CloudPort, VpnConnection
from linkplane.isolation import lab
from linkplane.isolation.lab import LabError, LabState, LabSummary, ns_run, run
from linkplane.isolation.service import CloudFor, Factory
from linkplane.isolation.state import (
    CloudState,
    OwnedBreakout,
    RegionSpec,
    load_desired,
    read_cloud,
)
from linkplane.network.cidrs import as_network
from linkplane.settings import Settings

CHARON = "/usr/sbin/charon-systemd"
LIBIPSEC = "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"
PACKAGES = "strongswan-swanctl charon-systemd libcharon-extra-plugins bird2"
#: Only what AWS's proposals need; kernel-libipsec before kernel-netlink so it does the ESP.
_PLUGINS = ("random nonce aes sha1 sha2 hmac gmp kdf kernel-libipsec kernel-netlink "
            "socket-default vici")  # fmt: skip
#: A subset of what AWS accepts in phases 1 and 2 (AES-128/256, SHA-1/2, DH 14-16).
AWS_PROPOSALS = "aes128-aes256-sha1-sha256-sha384-sha512-modp2048-modp3072-modp4096"
#: AWS side: packets from the TGW go into the tunnels by this table (policy routing on tgw0).
_INTO_TUNNELS = 90
#: AWS side: where BIRD puts the BGP-learned prefixes, out of forwarding, for the report.
_LEARNED = 91
#: charon's own routes (kernel-libipsec installs one per CHILD SA): consulted after main.
_CHARON_TABLE, _CHARON_TABLE_PRIO = 220, 40000
_WAIT_SECONDS = 30.0


def available() -> str | None:
    """Why VPN breakouts cannot get tunnels here (None when they can)."""
    missing = [t for t in (CHARON, LIBIPSEC) if not Path(t).exists()]
    missing += [t for t in ("swanctl", "bird", "birdc") if shutil.which(t) is None]
    if missing:
        return f"missing {', '.join(missing)} (apt-get install {PACKAGES})"
    if not Path("/dev/net/tun").exists():
        return "no /dev/net/tun (strongSwan's kernel-libipsec needs a TUN device)"
    return None


class AwsReports(Protocol):
    """Where AWS's tunnel endpoints report what they see (the embedded cloud in tests)."""

    def tunnel(self, vpn_id: str, outside_ip: str, up: bool) -> None: ...

    def learned(self, vpn_id: str, cidrs: list[str]) -> None: ...


class EmbeddedReports:
    """Reports into the embedded cloud of this process (its state is process-global)."""

    def tunnel(self, vpn_id: str, outside_ip: str, up: bool) -> None:
        from linkplane.localcloud.ec2 import vpn

        vpn.set_tunnel_status(vpn_id, outside_ip, "UP" if up else "DOWN")

    def learned(self, vpn_id: str, cidrs: list[str]) -> None:
        from linkplane.localcloud.ec2 import vpn

        vpn.advertise(vpn_id, cidrs)


# --- the customer's side, read from vpn_configuration ------------------------------------------
@dataclass(frozen=True)
class SiteTunnel:
    outside_ip: str
    aws_inside: str
    own_inside: str  # with its /30


@dataclass(frozen=True)
class Site:
    """What the customer's router learns from the strongswan configuration text."""

    public_ip: str
    on_prem: tuple[str, ...]
    remote: tuple[str, ...]  # routed into the tunnels (static); BGP learns them instead
    tunnels: tuple[SiteTunnel, ...]
    asn: int | None  # BGP only
    amazon_asn: int | None
    text: str


_LOCAL_ID = re.compile(r"local \{ auth = psk\s+id = (\S+) \}")
_REMOTE_ADDRS = re.compile(r"^\s*remote_addrs = (\S+)$", re.M)
_TS = re.compile(r"^\s*(local|remote)_ts = (\S+)$", re.M)
_INSIDE = re.compile(r"^\s*# tunnel (\d+) inside: AWS ([\d.]+), you ([\d./]+)$", re.M)
_BGP = re.compile(r"# BGP: neighbor [\d.]+ remote-as (\d+), local-as (\d+); advertise only (\S+)$",
                  re.M)  # fmt: skip


def parse_site(text: str) -> Site:
    """The router's facts from ``vpn_configuration?vendor=strongswan``; LabError when absent."""
    local_id, outside, inside = (
        _LOCAL_ID.search(text),
        _REMOTE_ADDRS.findall(text),
        _INSIDE.findall(text),
    )
    if local_id is None or not outside or len(inside) != len(outside):
        raise LabError(
            "the strongswan configuration lacks the local id, tunnels or inside addresses"
        )
    ts = {kind: cidrs.split(",") for kind, cidrs in _TS.findall(text)}
    bgp = _BGP.search(text)
    tunnels = tuple(SiteTunnel(o, a, y) for o, (_, a, y) in zip(outside, inside, strict=True))
    on_prem = bgp.group(3).split(",") if bgp else ts.get("local", [])
    return Site(public_ip=local_id.group(1), on_prem=tuple(on_prem),
                remote=() if bgp else tuple(ts.get("remote", [])), tunnels=tunnels,
                asn=int(bgp.group(2)) if bgp else None,
                amazon_asn=int(bgp.group(1)) if bgp else None, text=text)  # fmt: skip


_SERVER = re.compile(r"^  # tunnel (\d+): on your VPN server (\S+)$")
_SECRET = re.compile(r"^  ike-aws-(\d+) \{$")


def per_server(text: str) -> list[str]:
    """The served configuration cut into one swanctl.conf per VPN server (type 4 has two,
    in the order the text names them; types 2 and 3 one): each router loads its own tunnels
    and their secrets, verbatim, as a customer with two routers applies it."""
    tunnels: dict[str, list[str]] = {}  # tunnel number -> its lines (with its comments)
    secrets: dict[str, list[str]] = {}
    server_of: dict[str, str] = {}
    head: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        server, secret = _SERVER.match(line), _SECRET.match(line)
        if server:
            server_of[server.group(1)] = server.group(2)
            current = tunnels.setdefault(server.group(1), [])
        elif secret:
            current = secrets.setdefault(secret.group(1), [])
        elif line in ("connections {", "secrets {", "}"):
            current = None
            continue
        elif current is None:
            head.append(line)
            continue
        current.append(line)
    servers = list(dict.fromkeys(server_of.values()))
    if len(servers) <= 1:
        return [text]
    return ["\n".join([*head, "connections {",
                       *[x for n, lines in tunnels.items() if server_of[n] == s for x in lines],
                       "}", "secrets {",
                       *[x for n, lines in secrets.items() if server_of.get(n) == s
                         for x in lines], "}", ""])
            for s in servers]  # fmt: skip


def lan_addresses(cidr: str) -> tuple[str, str]:
    """(the router's, the on-prem host's) address in ``cidr``: the first and the 10th host."""
    net = as_network(cidr)
    router = str(net.network_address + 1)
    host = lab.vpc_address(cidr)
    return router, host if host != router else str(net.network_address + 2)


# --- files and daemons -------------------------------------------------------------------------
def run_dir(prefix: str) -> Path:
    """Sockets, configurations and logs of the lab's daemons: short paths (sockets are
    limited to 107 bytes), removed by :func:`down`."""
    return Path(tempfile.gettempdir()) / f"{prefix}-vpn"


def _charon(state: LabState, ns: str, swanctl_conf: str) -> None:
    """Start charon in ``ns`` with kernel-libipsec and load ``swanctl_conf``."""
    base = run_dir(state.prefix) / ns.removeprefix(f"{state.prefix}-")
    base.mkdir(parents=True, exist_ok=True)
    conf, sock = base / "strongswan.conf", base / "charon.vici"
    conf.write_text(
        "charon {\n"
        f"  load = {_PLUGINS}\n"
        # kernel-libipsec always installs a route per CHILD SA; its table comes after main,
        # where the lab's own routes (and a default in each namespace) decide.
        f"  routing_table = {_CHARON_TABLE}\n  routing_table_prio = {_CHARON_TABLE_PRIO}\n"
        "  install_virtual_ip = no\n"
        f"  filelog {{\n    lab {{\n      path = {base / 'charon.log'}\n      default = 1\n"
        "      flush_line = yes\n      time_format = %T\n    }\n  }\n"
        f"  plugins {{\n    vici {{\n      socket = unix://{sock}\n    }}\n  }}\n}}\n"
    )
    (base / "swanctl.conf").write_text(swanctl_conf)
    env = {**os.environ, "STRONGSWAN_CONF": str(conf)}
    with open(base / "charon.out", "w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed programs, in our namespace
            ["ip", "netns", "exec", ns, CHARON],  # noqa: S607
            env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    state.pids.append(proc.pid)
    _wait(lambda: sock.exists() and _has_tun(ns), f"charon in {ns} did not start ({base})")
    swanctl(state, ns, "--load-all", "--file", str(base / "swanctl.conf"))


def swanctl(state: LabState, ns: str, *args: str) -> str:
    base = run_dir(state.prefix) / ns.removeprefix(f"{state.prefix}-")
    env = {**os.environ, "STRONGSWAN_CONF": str(base / "strongswan.conf")}
    cmd = ["swanctl", *args, "--uri", f"unix://{base / 'charon.vici'}"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=30, check=False)  # noqa: S603
    if done.returncode != 0:
        raise LabError(f"swanctl {' '.join(args)} in {ns}: {done.stdout}{done.stderr}".strip())
    return done.stdout


def _has_tun(ns: str) -> bool:
    return "ipsec0" in ns_run(ns, "ip", "-o", "link", "show")


def _bird(state: LabState, ns: str, conf_text: str) -> None:
    base = run_dir(state.prefix) / ns.removeprefix(f"{state.prefix}-")
    conf, sock = base / "bird.conf", base / "bird.ctl"
    conf.write_text(conf_text)
    with open(base / "bird.out", "w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed programs, in our namespace
            ["ip", "netns", "exec", ns, "bird", "-f", "-c", str(conf), "-s", str(sock)],  # noqa: S607
            stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    state.pids.append(proc.pid)
    _wait(sock.exists, f"bird in {ns} did not start ({base})")


def birdc(state: LabState, ns: str, *args: str) -> str:
    sock = run_dir(state.prefix) / ns.removeprefix(f"{state.prefix}-") / "bird.ctl"
    return run("birdc", "-s", str(sock), *args)


def _wait(ready: Callable[[], bool], what: str, seconds: float = _WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(what)
        time.sleep(0.2)


# --- building ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class VpnSite:
    """One VPN breakout in the lab: its namespaces and what configured them."""

    breakout_id: int
    vpn_id: str
    aws_ns: str
    site_ns: str
    host_ns: str
    connection: VpnConnection
    site: Site
    #: Type 4: which of the breakout's two connections (each with its own site); else 1.
    number: int = 1

    @property
    def bgp(self) -> bool:
        return self.site.asn is not None


def names(state: LabState, breakout_id: int, number: int = 1) -> tuple[str, str, str]:
    """The namespaces of a breakout's connection ``number`` (type 4's second: suffix ``b``)."""
    p, b = state.prefix, f"{breakout_id}{'' if number == 1 else 'b'}"
    return f"{p}-aws{b}", f"{p}-site{b}", f"{p}-onprem{b}"


def _configuration(factory: Factory, settings: Settings, breakout_id: int) -> str:
    """``GET .../vpn_configuration?vendor=strongswan``, as the customer downloads it."""
    with factory() as session:
        row = session.get_one(BreakoutRow, breakout_id)
        return breakouts.vpn_configuration(session=session, settings=settings, row=row,
                                           vendor="strongswan")  # fmt: skip


def _aws_swanctl(connection: VpnConnection) -> str:
    """AWS's endpoints: responders on both outside addresses, any traffic selector (the
    customer's proposal narrows it), each tunnel's own PSK."""
    conns, secrets = ["connections {"], ["secrets {"]
    for n, t in enumerate(connection.tunnels, 1):
        conns += [f"  tunnel-{n} {{", "    version = 2", f"    local_addrs = {t.outside_ip}",
                  f"    proposals = {AWS_PROPOSALS}",
                  f"    local {{\n      auth = psk\n      id = {t.outside_ip}\n    }}",
                  "    remote {\n      auth = psk\n    }",
                  f"    children {{\n      tunnel-{n} {{\n        local_ts = 0.0.0.0/0\n"
                  f"        remote_ts = 0.0.0.0/0\n        esp_proposals = {AWS_PROPOSALS}\n"
                  "      }\n    }", "  }"]  # fmt: skip
        secrets += [f"  ike-{n} {{", f"    id = {t.outside_ip}", f'    secret = "{t.psk}"', "  }"]
    return "\n".join([*conns, "}", *secrets, "}", ""])


def _outside(state: LabState, v: VpnSite) -> None:
    """The "Internet" veth: AWS's outside addresses on one end, the public IP on the other."""
    run("ip", "link", "add", "inet0", "netns", v.aws_ns, "type", "veth",
        "peer", "name", "inet0", "netns", v.site_ns)  # fmt: skip
    for t in v.connection.tunnels:
        ns_run(v.aws_ns, "ip", "addr", "add", f"{t.outside_ip}/32", "dev", "inet0")
    ns_run(v.site_ns, "ip", "addr", "add", f"{v.site.public_ip}/32", "dev", "inet0")
    for ns in (v.aws_ns, v.site_ns):
        ns_run(ns, "ip", "link", "set", "inet0", "up")
    ns_run(v.aws_ns, "ip", "route", "add", f"{v.site.public_ip}/32", "dev", "inet0")
    for mine in v.site.tunnels:
        ns_run(v.site_ns, "ip", "route", "add", f"{mine.outside_ip}/32", "dev", "inet0")


def _aws_side(state: LabState, v: VpnSite, attachment_id: str, behind: list[str]) -> None:
    """AWS's endpoints, linked to the transit namespace as the ``vpn`` attachment.

    kernel-libipsec (not AWS) refuses a CHILD SA unless the namespace holds an address inside
    each local traffic selector, i.e. inside what the customer routes to AWS (``behind``: the
    core VPC, the device ranges, the associated table's routes). The endpoint takes each
    one's network address, which is never a host's."""
    index = state.link(f"att:{attachment_id}")
    lab._veth(state.tgw_netns, f"a{index}", v.aws_ns, "tgw0", index)
    ns_run(v.aws_ns, "ip", "route", "add", "default", "via", lab.addr(index, 1), "dev", "tgw0")
    for address in sorted({str(as_network(c).network_address) for c in behind}):
        ns_run(v.aws_ns, "ip", "addr", "add", f"{address}/32", "dev", "lo")
    _charon(state, v.aws_ns, _aws_swanctl(v.connection))
    ns_run(v.aws_ns, "ip", "link", "set", "ipsec0", "up")
    ns_run(v.aws_ns, "ip", "route", "add", "default", "dev", "ipsec0", "table", str(_INTO_TUNNELS))
    ns_run(v.aws_ns, "ip", "rule", "add", "iif", "tgw0", "lookup", str(_INTO_TUNNELS),
           "pref", "100")  # fmt: skip


def _site_side(state: LabState, v: VpnSite) -> None:
    """The customer's router (the served swanctl.conf, verbatim) and its on-prem host."""
    lan = f"lan:{v.breakout_id}" + ("" if v.number == 1 else f":{v.number}")
    lab._veth(v.site_ns, "lan0", v.host_ns, "eth0", state.link(lan))
    hosts = []
    for cidr in v.site.on_prem:
        router, host = lan_addresses(cidr)
        plen = as_network(cidr).prefixlen
        ns_run(v.site_ns, "ip", "addr", "add", f"{router}/{plen}", "dev", "lan0")
        ns_run(v.host_ns, "ip", "addr", "add", f"{host}/{plen}", "dev", "eth0")
        hosts.append(host)
    # What the router does not know (statically or by BGP) goes nowhere.
    ns_run(v.site_ns, "ip", "route", "add", "unreachable", "default")
    first_router = lan_addresses(v.site.on_prem[0])[0]
    ns_run(v.host_ns, "ip", "route", "add", "default", "via", first_router, "dev", "eth0")
    state.pids.append(lab._serve(v.host_ns))
    state.hosts[v.host_ns] = hosts
    _charon(state, v.site_ns, v.site.text)
    ns_run(v.site_ns, "ip", "link", "set", "ipsec0", "up")
    for cidr in v.site.remote:  # static: what the configuration says lies behind AWS
        ns_run(v.site_ns, "ip", "route", "replace", cidr, "dev", "ipsec0")


def aws_inside(cidr: str) -> tuple[str, str]:
    """(AWS's, the customer's) address of a tunnel's inside /30: its first and second host."""
    net = ipaddress.IPv4Network(cidr)
    return str(net.network_address + 1), str(net.network_address + 2)


def _inside_addresses(v: VpnSite) -> None:
    """BGP runs over the tunnels' inside /30s, on each side's ipsec0: AWS's from the cloud,
    the customer's from its configuration."""
    for t in v.connection.tunnels:
        plen = t.inside_cidr.rsplit("/", 1)[1]
        ns_run(v.aws_ns, "ip", "addr", "add", f"{aws_inside(t.inside_cidr)[0]}/{plen}",
               "dev", "ipsec0")  # fmt: skip
    for mine in v.site.tunnels:
        ns_run(v.site_ns, "ip", "addr", "add", mine.own_inside, "dev", "ipsec0")


def _bgp_common(router_id: str, kernel: str) -> list[str]:
    return [f"router id {router_id};", "protocol device { scan time 1; }",
            "protocol kernel {", "  ipv4 { import none; export where source = RTS_BGP; };",
            f"  {kernel}", "}"]  # fmt: skip


def _bgp_peer(
    name: str, local: str, asn: int, neighbour: str, peer_as: str, export: str
) -> list[str]:
    return [f"protocol bgp {name} {{", f"  local {local} as {asn};",
            f"  neighbor {neighbour} {peer_as};",
            "  hold time 9; keepalive time 3; connect retry time 2; connect delay time 1;",
            f'  ipv4 {{ import all; export where proto = "{export}"; }};', "}"]  # fmt: skip


def aws_bird(v: VpnSite, advertised: list[str]) -> str:
    """AWS's BGP speaker: advertises ``advertised`` (the associated TGW table's routes),
    accepts what the customer sends (AWS does, up to 100 prefixes) into a table out of
    forwarding, from where it is reported to the cloud."""
    pairs = [aws_inside(t.inside_cidr) for t in v.connection.tunnels]
    lines = _bgp_common(pairs[0][0], f"kernel table {_LEARNED};")
    lines += ["protocol static tgw {", "  ipv4;",
              *[f"  route {c} blackhole;" for c in advertised], "}"]  # fmt: skip
    for n, (own, customer) in enumerate(pairs, 1):
        # The customer's ASN is its gateway's; any external one is accepted here.
        lines += _bgp_peer(f"tunnel{n}", own, AMAZON_SIDE_ASN, customer, "external", "tgw")
    return "\n".join([*lines, ""])


def site_bird(v: VpnSite, extra: list[str] | None = None) -> str:
    """The customer's BGP speaker, from the configuration's neighbours and networks (and
    ``extra`` prefixes a misbehaving customer adds); learned routes go into its main table."""
    assert v.site.asn is not None and v.site.amazon_asn is not None
    first = v.site.tunnels[0]
    own = [*v.site.on_prem, *(extra or [])]
    lines = _bgp_common(first.own_inside.split("/")[0], "")
    lines += ["protocol static site {", "  ipv4;", *[f"  route {c} blackhole;" for c in own], "}"]
    for n, t in enumerate(v.site.tunnels, 1):
        lines += _bgp_peer(f"aws{n}", t.own_inside.split("/")[0], v.site.asn, t.aws_inside,
                           f"as {v.site.amazon_asn}", "site")  # fmt: skip
    return "\n".join([*lines, ""])


def _advertised_by_aws(cloud: CloudState, attachment_id: str) -> list[str]:
    """The routes of the TGW table the ``vpn`` attachment is associated with (what AWS's BGP
    advertises to the customer), except those leading back into this VPN."""
    tables = [a.route_table_id for a in cloud.associations
              if a.attachment_id == attachment_id and a.state == "associated"]  # fmt: skip
    table = tables[0] if tables else None
    routes = cloud.routes.get(table or "", [])
    return sorted({r.cidr for r in routes if ":" not in r.cidr and r.state == "active"
                   and attachment_id not in r.attachment_ids})  # fmt: skip


def _vpn_breakouts(desired_breakouts: list[OwnedBreakout]) -> list[OwnedBreakout]:
    return [b for b in desired_breakouts if b.active and b.vpn_connection_id and b.attachment_id]


def build(state: LabState, *, b: OwnedBreakout, spec: RegionSpec, cloud: CloudPort,
          cloud_state: CloudState, factory: Factory, settings: Settings,
          device_ranges: list[str]) -> list[VpnSite]:  # fmt: skip
    """The namespaces and daemons of VPN breakout ``b`` (kept if they exist): three per
    connection. Type 4's two connections end on two customer sites (its two VPN servers),
    each a router with the same on-prem network behind it, as a site replicated for HA."""
    pairs = [(b.vpn_connection_id, b.attachment_id), (b.vpn_connection_id_2, b.attachment_id_2)]
    servers = [parse_site(t) for t in per_server(_configuration(factory, settings, b.id))]
    built = []
    for number, (vpn_id, attachment_id) in enumerate(pairs, 1):
        if vpn_id is None or attachment_id is None:
            continue
        connection = cloud.describe_vpn_connection(vpn_id)
        if connection is None or not connection.tunnels:
            raise LabError(f"breakout {b.id}: the cloud does not describe {vpn_id}")
        site = _site_of(b.id, connection, servers)
        v = VpnSite(b.id, vpn_id, *names(state, b.id, number), connection, site, number)
        _build_one(state, v, attachment_id, spec=spec, cloud_state=cloud_state,
                   device_ranges=device_ranges)  # fmt: skip
        built.append(v)
    return built


def _site_of(breakout_id: int, connection: VpnConnection, servers: list[Site]) -> Site:
    """The VPN server whose tunnels end on ``connection``'s outside addresses."""
    outside = {t.outside_ip for t in connection.tunnels}
    for site in servers:
        if {t.outside_ip for t in site.tunnels} == outside:
            return site
    raise LabError(f"breakout {breakout_id}: no VPN server in the configuration has the "
                   f"tunnels of {connection.id}")  # fmt: skip


def _build_one(state: LabState, v: VpnSite, attachment_id: str, *, spec: RegionSpec,
               cloud_state: CloudState, device_ranges: list[str]) -> None:  # fmt: skip
    created = [lab._ensure_ns(state, ns) for ns in (v.aws_ns, v.site_ns, v.host_ns)]
    if not any(created):
        return
    if not all(created):
        raise LabError(f"breakout {v.breakout_id}: half-built VPN namespaces; run linkplane "
                       "lab down")  # fmt: skip
    behind = _advertised_by_aws(cloud_state, attachment_id)
    _outside(state, v)
    _aws_side(state, v, attachment_id,
              [spec.core_vpc_cidr, spec.device_cidr, *device_ranges, *behind])  # fmt: skip
    _site_side(state, v)
    if v.bgp:
        _inside_addresses(v)
        _bird(state, v.aws_ns, aws_bird(v, behind))
        _bird(state, v.site_ns, site_bird(v))


# --- observing what AWS's side sees --------------------------------------------------------------
def tunnels_up(state: LabState, v: VpnSite) -> list[str]:
    """Outside addresses of AWS's tunnels with an established IKE SA and an installed
    CHILD SA, from AWS's charon."""
    out = swanctl(state, v.aws_ns, "--list-sas")
    up, current = set(), ""
    for line in out.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":", 1)[0] if ", ESTABLISHED," in line else ""
        elif current and ", INSTALLED," in line:
            up.add(current)
    return [t.outside_ip for n, t in enumerate(v.connection.tunnels, 1) if f"tunnel-{n}" in up]


def learned(v: VpnSite) -> list[str]:
    """Prefixes AWS's BGP speaker has learned from the customer (any tunnel)."""
    routes = json.loads(
        ns_run(v.aws_ns, "ip", "-j", "route", "show", "table", str(_LEARNED)) or "[]"
    )
    return sorted({_cidr(r["dst"]) for r in routes})


def site_learned(v: VpnSite) -> list[str]:
    """Prefixes the customer's router learned from AWS over BGP (in its main table)."""
    routes = json.loads(ns_run(v.site_ns, "ip", "-j", "route", "show", "proto", "bird") or "[]")
    return sorted({_cidr(r["dst"]) for r in routes})


def _cidr(dst: str) -> str:
    return str(ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32"))


def established(state: LabState, v: VpnSite) -> bool:
    if len(tunnels_up(state, v)) != len(v.connection.tunnels):
        return False
    if not v.bgp:
        return True
    return birdc(state, v.aws_ns, "show", "protocols").count("Established") == len(v.site.tunnels)


def wait_learned(v: VpnSite, cidrs: list[str]) -> None:
    """Until AWS's side has learned every one of ``cidrs`` over BGP."""
    _wait(
        lambda: set(cidrs) <= set(learned(v)),
        f"breakout {v.breakout_id}: AWS did not learn {', '.join(cidrs)} over BGP",
    )


def misbehave(state: LabState, v: VpnSite, extra: list[str]) -> None:
    """The customer's router also advertises ``extra`` (e.g. another customer's prefix)."""
    conf = run_dir(state.prefix) / v.site_ns.removeprefix(f"{state.prefix}-") / "bird.conf"
    conf.write_text(site_bird(v, extra))
    birdc(state, v.site_ns, "configure")


def stop_router(settings: Settings, state: LabState, v: VpnSite) -> None:
    """The customer's router of ``v`` fails for real: its charon (started by the lab) stops,
    sending DELETEs for its SAs, and takes its TUN device (and so its BGP sessions) along."""
    mine = set(state.pids) & {int(p) for p in run("ip", "netns", "pids", v.site_ns).split()}
    charons = [p for p in mine if _running(p, Path(CHARON).name)]
    if not charons:
        raise LabError(f"no charon of the lab runs in {v.site_ns}")
    for pid in charons:
        os.kill(pid, signal.SIGTERM)
    _wait(lambda: not any(_running(p, Path(CHARON).name) for p in charons),
          f"charon in {v.site_ns} did not stop")  # fmt: skip
    state.pids = [p for p in state.pids if p not in charons]  # never signal a reused pid
    lab._save(settings, state)


def _running(pid: int, name: str) -> bool:
    """Whether ``pid`` is a live ``name`` (reaped here when it is our exited child)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
    return comm == name and not rest.startswith(("Z", "X"))


# --- up: the lab plus its VPN breakouts ----------------------------------------------------------
@dataclass
class VpnLab:
    summary: LabSummary
    sites: list[VpnSite]


def up(*, settings: Settings, factory: Factory, cloud_for: CloudFor, region: str | None = None,
       reports: AwsReports | None = None) -> VpnLab:  # fmt: skip
    """:func:`lab.up`, then the VPN breakouts' tunnels; once AWS's side has them (and BGP),
    it reports them and the transit namespace is reprogrammed from the cloud."""
    summary = lab.up(settings=settings, factory=factory, cloud_for=cloud_for, region=region)
    state = summary.state
    with factory() as session:
        desired = load_desired(session)
    spec = desired.region(state.region)
    vpns = _vpn_breakouts(desired.in_region(state.region))
    if spec is None or not vpns:
        return VpnLab(summary, [])
    reason = available()
    if reason:
        raise LabError(f"VPN breakouts need strongSwan and BIRD: {reason}")
    cloud, sites = cloud_for(spec.name), []
    try:
        cloud_state = read_cloud(cloud, spec, shares=False)
        for b in vpns:
            ranges = [str(n) for n in desired.device_ranges.get(b.org_id, [])]
            sites.extend(build(state, b=b, spec=spec, cloud=cloud, cloud_state=cloud_state,
                               factory=factory, settings=settings,
                               device_ranges=ranges))  # fmt: skip
    finally:
        lab._save(settings, state)  # whatever was created (processes too), down can remove
    for v in sites:
        settle(state, v, reports)
    tables = lab.program_transit(state, read_cloud(cloud, spec, shares=False), spec)
    return VpnLab(LabSummary(state, tables, summary.policy), sites)


def settle(state: LabState, v: VpnSite, reports: AwsReports | None) -> None:
    """Wait for both tunnels (and BGP with the declared networks), then report them."""
    where = run_dir(state.prefix)
    _wait(lambda: established(state, v),
          f"breakout {v.breakout_id}: tunnels not up (logs in {where})")  # fmt: skip
    if v.bgp:  # the customer's announcements arrive just after Established
        wait_learned(v, list(v.site.on_prem))
    report(state, v, reports)


def report(state: LabState, v: VpnSite, reports: AwsReports | None) -> None:
    """Tell the cloud what AWS's side sees now: each tunnel UP or DOWN, the learned prefixes."""
    if reports is None:
        return
    up_now = set(tunnels_up(state, v))
    for t in v.connection.tunnels:
        reports.tunnel(v.vpn_id, t.outside_ip, t.outside_ip in up_now)
    if v.bgp:
        reports.learned(v.vpn_id, learned(v))


def describe(built: VpnLab) -> list[str]:
    """One line per VPN breakout: its namespaces, tunnels and (BGP) what AWS learned."""
    state, lines = built.summary.state, []
    for v in built.sites:
        up_now = tunnels_up(state, v)
        bgp = f", AWS learned {', '.join(learned(v)) or 'nothing'} over BGP" if v.bgp else ""
        hosts = ", ".join(state.hosts.get(v.host_ns, []))
        lines.append(f"  VPN breakout {v.breakout_id}: {v.site_ns} (router) -> {v.aws_ns} "
                     f"(AWS), tunnels up {len(up_now)}/{len(v.connection.tunnels)}{bgp}; "
                     f"on-prem host {v.host_ns}: {hosts}")  # fmt: skip
    return lines


def down(*, settings: Settings) -> list[str]:
    """:func:`lab.down` (it stops charon and BIRD with the other processes), and the files."""
    state = lab.load_state(settings)
    removed = lab.down(settings=settings)
    if state is not None:
        shutil.rmtree(run_dir(state.prefix), ignore_errors=True)
    return removed
