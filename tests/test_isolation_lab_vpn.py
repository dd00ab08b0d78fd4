"""Real tunnels: VPN breakouts in the lab. The customer's router is configured only from
``vpn_configuration?vendor=strongswan``, AWS's tunnel endpoints only from the embedded cloud's
description of the VPN connection; strongSwan (IKEv2, ESP in user space with kernel-libipsec)
carries the packets and, for type 3, BIRD speaks BGP over the tunnels. A device reaches the
on-prem host (ICMP and TCP, both ways) through the core, the TGW and the tunnel; another
organisation's device does not; a customer advertising foreign prefixes over BGP does not get
them into the core."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.attachments import vpn
from linkplane.attachments.models import Breakout, BreakoutType, Status
from linkplane.attachments.workflows.vpn_plan import tunnels_of
from linkplane.cloud.port import TunnelSpec
from linkplane.db import transaction
from linkplane.isolation import lab, lab_vpn
from tests.test_isolation_support import Org, World, make_world

pytestmark = pytest.mark.netns

_why = lab.available() or lab_vpn.available()
_public = itertools.count(1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    if _why:
        pytest.skip(f"VPN lab not available: {_why}")
    w = make_world(tmp_path)
    yield w
    lab_vpn.down(settings=w.settings)


def provision_vpn(w: World, org: Org, on_prem: list[str], *, asn: int | None = None) -> int:
    """An Active VPN breakout of ``org`` (type 3 when ``asn`` is given, else 2), made as the
    provisioning workflow makes it: gateway, connection, ``vpn`` attachment, association,
    static routes for the declared on-prem CIDRs only; recorded on the row as it records it."""
    bgp = asn is not None
    # 198.51.100.0/24 (TEST-NET-2): it exists only inside the lab's namespaces.
    public_ip, psk = f"198.51.100.{next(_public)}", "lab.Secret_42"
    with transaction(w.ctx.sessionmaker) as session:
        row = Breakout(org_id=org.id, name="vpn", region=w.region.name, aws_account_id="",
                       vpc_cidrs=json.dumps(on_prem), status_id=Status.PENDING_EGN_ACTIVATION,
                       type_id=BreakoutType.VPN_BGP if bgp else BreakoutType.IPSEC_VPN,
                       vpn_public_ip=public_ip, vpn_asn=asn or 65000,
                       vpn_psk_sealed=vpn.seal_psk(psk, signing_key=w.settings.signing_key()),
                       description="", routes="[]")  # fmt: skip
        session.add(row)
        session.flush()
        bid = row.id
    p, tags = w.provider, {"linkplane:breakout": str(bid)}
    gateway = p.ensure_customer_gateway(public_ip=public_ip, asn=asn or 65000,
                                        device_name=f"lab-{bid}", tags=tags)  # fmt: skip
    made = p.ensure_vpn_connection(customer_gateway_id=gateway.id, tgw_id=w.region.tgw_id,
                                   static_routes_only=not bgp,
                                   tunnels=(TunnelSpec(psk), TunnelSpec(psk)),
                                   tags=tags)  # fmt: skip
    assert p.describe_vpn_connection(made.id).state == "available"  # type: ignore[union-attr]
    attachment = p.vpn_attachment(tgw_id=w.region.tgw_id, vpn_id=made.id)
    assert attachment is not None
    p.associate_route_table(route_table_id=w.region.customers_table_id,
                            attachment_id=attachment.id)  # fmt: skip
    for cidr in on_prem:
        p.create_static_route(route_table_id=w.region.core_table_id, cidr=cidr,
                              attachment_id=attachment.id)  # fmt: skip
    with transaction(w.ctx.sessionmaker) as session:
        row = session.get_one(Breakout, bid)
        row.status_id, row.tgw_id, row.attachment_id = Status.ACTIVE, w.region.tgw_id, attachment.id
        row.customer_gateway_id, row.vpn_connection_id = gateway.id, made.id
        row.vpn_tunnels = json.dumps(tunnels_of(made))
        row.associated_route_table_id = w.region.customers_table_id
        row.core_route_table_id = w.region.core_table_id
        row.routes = json.dumps(on_prem)
    w.breakouts[bid] = org.id
    return bid


def _up(w: World) -> lab_vpn.VpnLab:
    return lab_vpn.up(settings=w.settings, factory=w.ctx.sessionmaker, cloud_for=w.cloud_for,
                      reports=lab_vpn.EmbeddedReports())  # fmt: skip


def _reach(probes: list[lab.Probe]) -> set[tuple[str, str, str]]:
    return {(p.kind, p.src, p.dst) for p in probes if p.ok}


def _expected(pairs: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    return {(k, s, d) for a, b in pairs for s, d in ((a, b), (b, a)) for k in ("ping", "tcp")}


def _site(built: lab_vpn.VpnLab, bid: int) -> lab_vpn.VpnSite:
    return next(s for s in built.sites if s.breakout_id == bid)


def test_static_vpn_carries_devices_to_the_on_prem_host_and_no_one_else(world: World) -> None:
    a, b = world.orgs
    vpn = provision_vpn(world, a, ["10.71.0.0/24"])
    world.provision(b, ["10.72.0.0/24"])
    built = _up(world)
    site = _site(built, vpn)
    on_prem = lab_vpn.lan_addresses("10.71.0.0/24")[1]

    # The router took its tunnels, addresses and routes from the configuration text.
    assert site.site.on_prem == ("10.71.0.0/24",)
    assert {t.outside_ip for t in site.site.tunnels} == {
        t.outside_ip for t in site.connection.tunnels
    }
    # Both tunnels are up in AWS's charon, and the cloud was told (VgwTelemetry).
    state = built.summary.state
    assert sorted(lab_vpn.tunnels_up(state, site)) == sorted(
        t.outside_ip for t in site.connection.tunnels
    )
    seen = world.provider.describe_vpn_connection(site.vpn_id)
    assert seen is not None and {t.status for t in seen.tunnels} == {"UP"}
    assert "tunnels up 2/2" in " ".join(lab_vpn.describe(built))

    # Org A's device reaches the on-prem host and back; org B reaches only its VPC.
    vpc_b = lab.vpc_address("10.72.0.0/24")
    assert _reach(lab.matrix(state)) == _expected([(a.ips[0], on_prem), (b.ips[0], vpc_b)])

    # The packets went through ESP: the customer's CHILD SAs counted them.
    sas = lab_vpn.swanctl(state, site.site_ns, "--list-sas")
    assert any(int(n) > 0 for n in _packets(sas)), sas

    # The tunnels gone (the customer's router stops): no path to the on-prem host any more.
    lab_vpn.swanctl(state, site.site_ns, "--terminate", "--ike", "aws-tunnel-1")
    lab_vpn.swanctl(state, site.site_ns, "--terminate", "--ike", "aws-tunnel-2")
    lab.run("ip", "netns", "exec", site.site_ns, "ip", "link", "set", "inet0", "down")
    assert not lab.probe(f"{state.prefix}-org{a.id}", "tcp", a.ips[0], on_prem)
    # AWS's side saw the DELETEs: it reports both tunnels DOWN, and the cloud says so.
    assert lab_vpn.tunnels_up(state, site) == []
    lab_vpn.report(state, site, lab_vpn.EmbeddedReports())
    seen = world.provider.describe_vpn_connection(site.vpn_id)
    assert seen is not None and {t.status for t in seen.tunnels} == {"DOWN"}


def _packets(list_sas: str) -> list[str]:
    return re.findall(r"(\d+) packets", list_sas)


def test_bgp_vpn_learns_routes_and_a_foreign_prefix_never_reaches_the_core(world: World) -> None:
    a, b = world.orgs
    vpn = provision_vpn(world, a, ["10.73.0.0/24"], asn=65010)
    world.provision(b, ["10.74.0.0/24"])
    built = _up(world)
    site, state = _site(built, vpn), built.summary.state
    on_prem = lab_vpn.lan_addresses("10.73.0.0/24")[1]

    # BGP both ways over the tunnels: AWS learned the declared network, the customer learned
    # the routes of the TGW table its attachment is associated with (its devices among them).
    assert lab_vpn.learned(site) == ["10.73.0.0/24"]
    from_aws = [ipaddress.ip_network(c) for c in lab_vpn.site_learned(site)]
    assert any(ipaddress.ip_address(a.ips[0]) in net for net in from_aws), from_aws
    assert _reach(lab.matrix(state)) == _expected(
        [(a.ips[0], on_prem), (b.ips[0], lab.vpc_address("10.74.0.0/24"))]
    )

    # The customer also advertises org B's VPC and a more specific of org B's device range.
    foreign = ["10.74.0.0/24", f"{b.ips[0]}/32"]
    lab_vpn.misbehave(state, site, foreign)
    lab_vpn.wait_learned(site, foreign)
    built = _up(world)  # AWS's side reports what it learned; the TGW is reprogrammed
    state = built.summary.state
    # AWS's side accepted all three and told the cloud (as AWS's VgwTelemetry counts them)...
    assert lab_vpn.learned(site) == sorted(["10.73.0.0/24", *foreign])
    described = world.ec2().describe_vpn_connections(VpnConnectionIds=[site.vpn_id])
    telemetry = described["VpnConnections"][0]["VgwTelemetry"]
    assert {t["AcceptedRouteCount"] for t in telemetry} == {3}
    # ... yet the core routes only the declared network to the VPN, and no table of the TGW
    # sends the foreign prefixes into it.
    attachment = world.provider.vpn_attachment(tgw_id=world.region.tgw_id, vpn_id=site.vpn_id)
    assert attachment is not None
    core = world.provider.search_routes(world.region.core_table_id)
    to_vpn = {r.cidr for r in core if attachment.id in r.attachment_ids}
    assert to_vpn == {"10.73.0.0/24"}
    for table in world.provider.find_route_tables(tgw_id=world.region.tgw_id):
        hijack = [r for r in world.provider.search_routes(table.id)
                  if r.cidr in foreign and attachment.id in r.attachment_ids]  # fmt: skip
        assert hijack == []
    # Org B's traffic is not hijacked; org A still reaches its own on-prem host.
    assert _reach(lab.matrix(state)) == _expected(
        [(a.ips[0], on_prem), (b.ips[0], lab.vpc_address("10.74.0.0/24"))]
    )


def test_the_cli_builds_checks_and_removes_the_vpn_lab(world: World) -> None:
    from typer.testing import CliRunner

    from linkplane.isolation.cli import lab_app

    a, _ = world.orgs
    provision_vpn(world, a, ["10.75.0.0/24"])
    s = world.settings
    env = {"LINKPLANE_CLOUD": "embedded", "LINKPLANE_AWS_ENDPOINT_URL": s.aws_endpoint_url,
           "LINKPLANE_PROVIDER_ACCOUNT_ID": s.provider_account_id,
           "LINKPLANE_DEFAULT_REGION": s.default_region}  # fmt: skip
    runner, data_dir = CliRunner(env=env), ["--data-dir", str(s.data_dir)]
    built = runner.invoke(lab_app, ["up", *data_dir])
    assert built.exit_code == 0, built.output
    assert "tunnels up 2/2" in built.output
    checked = runner.invoke(lab_app, ["check", "--json", *data_dir])
    on_prem = lab_vpn.lan_addresses("10.75.0.0/24")[1]
    reached = {(p["src"], p["dst"], p["kind"]) for p in json.loads(checked.stdout) if p["ok"]}
    assert reached == {(x, y, k) for x, y in ((a.ips[0], on_prem), (on_prem, a.ips[0]))
                       for k in ("ping", "tcp")}  # fmt: skip
    removed = runner.invoke(lab_app, ["down", *data_dir])
    assert removed.exit_code == 0 and "removed 7 namespace(s)" in removed.output


# --- without namespaces: what the router reads from the configuration, and why the lab skips --
def _served(bgp: bool) -> str:
    from linkplane.attachments import vpn

    return vpn.configuration("strongswan", {
        "id": 7, "public_ip": "198.51.100.9", "psk": "lab.Secret_42",
        "asn": 65010 if bgp else 65000, "bgp": bgp, "amazon_asn": vpn.AMAZON_SIDE_ASN,
        "on_prem_cidr": ["10.81.0.0/24", "10.82.0.0/24"],
        "remote_cidrs": ["10.255.0.0/16", "100.64.3.0/24"],
        "tunnels": [{"outside_ip": "203.0.113.7", "inside_cidr": "169.254.20.0/30"},
                    {"outside_ip": "203.0.113.8", "inside_cidr": "169.254.20.4/30"}],
    })  # fmt: skip


@pytest.mark.parametrize("bgp", [False, True])
def test_the_router_is_configured_from_the_served_strongswan_text(bgp: bool) -> None:
    site = lab_vpn.parse_site(_served(bgp))
    assert site.public_ip == "198.51.100.9"
    assert site.on_prem == ("10.81.0.0/24", "10.82.0.0/24")
    assert [(t.outside_ip, t.aws_inside, t.own_inside) for t in site.tunnels] == [
        ("203.0.113.7", "169.254.20.1", "169.254.20.2/30"),
        ("203.0.113.8", "169.254.20.5", "169.254.20.6/30"),
    ]
    if bgp:  # routes come from BGP; the ASNs from the configuration
        assert (site.remote, site.asn, site.amazon_asn) == ((), 65010, 64512)
    else:
        assert site.remote == ("10.255.0.0/16", "100.64.3.0/24") and site.asn is None


def test_a_configuration_without_tunnels_is_refused() -> None:
    with pytest.raises(lab.LabError):
        lab_vpn.parse_site("connections {\n}\n")


def test_missing_packages_are_named_in_the_skip_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_vpn.shutil, "which", lambda name: None if name == "bird" else name)
    why = lab_vpn.available()
    assert why is not None and "bird" in why and "apt-get install" in why
