"""Real tunnels for type 4 (IPsec VPN BGP High Availability): two customer sites (one per VPN
server, each a router configured only from its half of ``vpn_configuration`` with the same
on-prem network behind it), two VPN connections, four IKEv2 tunnels with BGP on each. A device
reaches the on-prem host through the first connection; the first site's router then fails for
real (its charon stops), AWS's side sees its tunnels go, the tunnel watch fails the core routes
over to the second connection, and the device reaches the on-prem host through the second
site. Another organisation's device never reaches it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from linkplane.attachments import vpn
from linkplane.attachments.models import Breakout, BreakoutType, Status
from linkplane.attachments.service import ENTITY
from linkplane.attachments.tunnels import TunnelWatch
from linkplane.attachments.workflows.vpn_plan import tunnels_of
from linkplane.cloud.port import TunnelSpec
from linkplane.db import transaction
from linkplane.events.models import Event
from linkplane.isolation import lab, lab_vpn
from linkplane.isolation.state import read_cloud
from tests.test_isolation_lab_vpn import _public, _up, world
from tests.test_isolation_support import Org, World

__all__ = ["world"]  # the fixture, shared with the type 2/3 lab tests


def provision_ha(w: World, org: Org, on_prem: list[str], *, asn: int) -> tuple[int, list[str]]:
    """An Active type 4 breakout of ``org`` as the provisioning workflow leaves it: two
    gateways, two connections and their ``vpn`` attachments, both associated with the
    customers table, the core routes (declared CIDRs only) to the first. Returns the id and
    the two attachment ids."""
    publics, psk = [f"198.51.100.{next(_public)}" for _ in range(2)], "lab.Secret_42"
    with transaction(w.ctx.sessionmaker) as session:
        row = Breakout(org_id=org.id, name="vpn-ha", region=w.region.name, aws_account_id="",
                       vpc_cidrs=json.dumps(on_prem), status_id=Status.PENDING_EGN_ACTIVATION,
                       type_id=BreakoutType.VPN_BGP_HA, vpn_public_ip=publics[0],
                       vpn_public_ip_2=publics[1], vpn_asn=asn,
                       vpn_psk_sealed=vpn.seal_psk(psk, signing_key=w.settings.signing_key()),
                       description="", routes="[]")  # fmt: skip
        session.add(row)
        session.flush()
        bid = row.id
    p, made, gateways, atts = w.provider, [], [], []
    for n, public_ip in enumerate(publics, 1):
        tags = {"linkplane:breakout": str(bid), **({"linkplane:vpn": "2"} if n == 2 else {})}
        gateway = p.ensure_customer_gateway(public_ip=public_ip, asn=asn,
                                            device_name=f"lab-{bid}-{n}", tags=tags)  # fmt: skip
        connection = p.ensure_vpn_connection(customer_gateway_id=gateway.id,
                                             tgw_id=w.region.tgw_id, static_routes_only=False,
                                             tunnels=(TunnelSpec(psk), TunnelSpec(psk)),
                                             tags=tags)  # fmt: skip
        attachment = p.vpn_attachment(tgw_id=w.region.tgw_id, vpn_id=connection.id)
        assert attachment is not None
        p.associate_route_table(route_table_id=w.region.customers_table_id,
                                attachment_id=attachment.id)  # fmt: skip
        gateways.append(gateway.id)
        made.append(connection)
        atts.append(attachment.id)
    for cidr in on_prem:
        p.create_static_route(route_table_id=w.region.core_table_id, cidr=cidr,
                              attachment_id=atts[0])  # fmt: skip
    with transaction(w.ctx.sessionmaker) as session:
        row = session.get_one(Breakout, bid)
        row.status_id, row.tgw_id = Status.ACTIVE, w.region.tgw_id
        row.attachment_id, row.attachment_id_2 = atts
        row.customer_gateway_id, row.customer_gateway_id_2 = gateways
        row.vpn_connection_id, row.vpn_connection_id_2 = made[0].id, made[1].id
        row.vpn_tunnels = json.dumps(tunnels_of(made[0]) + tunnels_of(made[1]))
        row.associated_route_table_id = w.region.customers_table_id
        row.core_route_table_id = w.region.core_table_id
        row.routes = json.dumps(on_prem)
    w.breakouts[bid] = org.id
    return bid, atts


def _reaches(ns: str, src: str, dst: str) -> bool:
    return all(lab.probe(ns, kind, src, dst) for kind in ("ping", "tcp"))


def _blocked(ns: str, src: str, dst: str) -> bool:
    return not any(lab.probe(ns, kind, src, dst) for kind in ("ping", "tcp"))


@pytest.mark.netns
def test_ha_vpn_four_real_tunnels_and_a_real_failover_to_the_second_site(world: World) -> None:
    a, b = world.orgs
    cidr = "10.76.0.0/24"
    bid, (att_1, att_2) = provision_ha(world, a, [cidr], asn=65030)
    world.provision(b, ["10.77.0.0/24"])
    built = _up(world)
    state = built.summary.state
    first, second = sorted((s for s in built.sites if s.breakout_id == bid),
                           key=lambda s: s.number)  # fmt: skip
    on_prem = lab_vpn.lan_addresses(cidr)[1]
    device, stranger = f"{state.prefix}-org{a.id}", f"{state.prefix}-org{b.id}"

    # Each router took its own half of the configuration: its server, its two tunnels.
    assert first.site.public_ip != second.site.public_ip
    for site in (first, second):
        assert {t.outside_ip for t in site.site.tunnels} == {
            t.outside_ip for t in site.connection.tunnels
        }
        # Two tunnels up per connection in AWS's charon, BGP learned the declared network,
        # and the cloud was told (VgwTelemetry): four tunnels UP.
        assert len(lab_vpn.tunnels_up(state, site)) == 2
        assert lab_vpn.learned(site) == [cidr]
        seen = world.provider.describe_vpn_connection(site.vpn_id)
        assert seen is not None and [t.status for t in seen.tunnels] == ["UP", "UP"]
    assert " ".join(lab_vpn.describe(built)).count("tunnels up 2/2") == 2

    # The core routes lead to the first connection: its site answers, the second's cannot.
    watch = TunnelWatch(interval=60, metrics_every=3600, sessions=world.ctx.sessionmaker,
                        cloud=world.cloud_for)  # fmt: skip
    watch.watch_once(metrics=False)
    assert _core_targets(world, cidr) == (att_1,)  # all up: no failover
    assert _reaches(device, a.ips[0], on_prem)
    assert _reaches(first.host_ns, on_prem, a.ips[0])
    assert _blocked(second.host_ns, on_prem, a.ips[0])  # its replies go to the first site
    assert _blocked(stranger, b.ips[0], on_prem)

    # The first site's router fails for real: AWS's side sees its tunnels go.
    lab_vpn.stop_router(world.settings, state, first)
    lab_vpn._wait(lambda: lab_vpn.tunnels_up(state, first) == [],
                  "the first connection's tunnels did not go down")  # fmt: skip
    assert _blocked(device, a.ips[0], on_prem)  # the core still routes to the dead site
    lab_vpn.report(state, first, lab_vpn.EmbeddedReports())
    lab_vpn.report(state, second, lab_vpn.EmbeddedReports())

    # The tunnel watch fails the core routes over to the second connection, with an event.
    watch.watch_once(metrics=False)
    assert _core_targets(world, cidr) == (att_2,)
    with world.ctx.sessionmaker() as session:
        assert session.get_one(Breakout, bid).vpn_routed_connection == 2
        on_row = (Event.entity_type == ENTITY, Event.entity_id == bid)
        notes = session.scalars(select(Event.description).where(
            *on_row, Event.description.startswith("VPN failover"))).all()  # fmt: skip
    assert len(notes) == 1 and att_2 in notes[0]

    # The transit namespace follows the cloud: the device reaches the second site's host.
    lab.program_transit(state, read_cloud(world.cloud_for(world.region.name), world.region,
                                          shares=False), world.region)  # fmt: skip
    assert _reaches(device, a.ips[0], on_prem)
    assert _reaches(second.host_ns, on_prem, a.ips[0])
    assert _blocked(stranger, b.ips[0], on_prem)


def _core_targets(w: World, cidr: str) -> tuple[str, ...]:
    routes = w.provider.search_routes(w.region.core_table_id)
    return next((r.attachment_ids for r in routes if r.cidr == cidr), ())


# --- without namespaces: each router's half of the served configuration ---------------------
def _served_ha() -> str:
    servers = ("198.51.100.9", "198.51.100.10")
    return vpn.configuration("strongswan", {
        "id": 8, "public_ip": servers[0], "psk": "lab.Secret_42", "asn": 65030, "bgp": True,
        "amazon_asn": vpn.AMAZON_SIDE_ASN, "on_prem_cidr": ["10.81.0.0/24"],
        "remote_cidrs": ["10.255.0.0/16"],
        "tunnels": [{"outside_ip": f"203.0.113.{7 + n}", "inside_cidr": f"169.254.30.{4 * n}/30",
                     "customer_ip": servers[n // 2]} for n in range(4)],
    })  # fmt: skip


def test_each_vpn_server_loads_only_its_own_tunnels_and_secrets() -> None:
    halves = lab_vpn.per_server(_served_ha())
    assert len(halves) == 2
    sites = [lab_vpn.parse_site(h) for h in halves]
    assert [s.public_ip for s in sites] == ["198.51.100.9", "198.51.100.10"]
    assert [[t.outside_ip for t in s.tunnels] for s in sites] == [
        ["203.0.113.7", "203.0.113.8"], ["203.0.113.9", "203.0.113.10"]]  # fmt: skip
    assert all((s.asn, s.on_prem) == (65030, ("10.81.0.0/24",)) for s in sites)
    # Only its own tunnels' secrets, and the text stays a whole swanctl.conf.
    assert "ike-aws-3" in halves[1] and "ike-aws-3" not in halves[0]
    assert "ike-aws-1" in halves[0] and "ike-aws-1" not in halves[1]
    for half in halves:
        assert half.count("{") == half.count("}")
        assert half.index("connections {") < half.index("secrets {")


def test_a_configuration_with_one_vpn_server_is_loaded_whole() -> None:
    text = _served_ha().replace("198.51.100.10", "198.51.100.9")
    assert lab_vpn.per_server(text) == [text]
