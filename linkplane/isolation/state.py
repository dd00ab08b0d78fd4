"""Loading: the database (fleet, breakouts, regions) and the cloud (one TGW and its RAM
shares) into plain values for :mod:`linkplane.network` and :mod:`.drift`.

Reads cost a fixed number of paginated calls per region: route tables 1, per table routes
(1 per 1,000 routes, see ``AwsCloud.search_routes``), associations 1, propagations 1;
attachments 1 per page; RAM shares 1 per page and share associations 2 per page; the audit's
VPN connections 1 and customer gateways 1 (both filtered by the installation's tag). Nothing
is read per route, attachment, share or breakout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.addressing.models import IpAddressSpace
from linkplane.attachments import crossregion
from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import Breakout as BreakoutRow
from linkplane.attachments.models import Status
from linkplane.cloud.port import (
    CloudPort,
    CustomerGateway,
    ResourceShare,
    RouteTableAssociation,
    ShareAssociation,
    TgwAttachment,
    TgwPropagation,
    TgwRoute,
    TgwRouteTable,
    VpnConnection,
)
from linkplane.devices.models import Endpoint as EndpointRow
from linkplane.devices.models import EndpointStatus
from linkplane.installation.tags import TAG as INSTALLATION_TAG
from linkplane.network.cidrs import as_network
from linkplane.network.policy import Breakout, Endpoint
from linkplane.network.routing import Topology
from linkplane.profiles.models import ServiceProfile
from linkplane.regions.models import Region, RegionPeering
from linkplane.sims.models import Sim, SimStatus

#: Breakout statuses whose workflow is still creating or removing resources: what such a row
#: records is owned, but its absence or incompleteness is not drift (the workflow is on it).
IN_FLIGHT = frozenset(
    {Status.PENDING_CUSTOMER_ACTION, Status.PENDING_AWS_ACTIVATION, Status.PENDING_EGN_ACTIVATION,
     Status.PENDING_CRG_ACTIVATION, Status.DEACTIVATION_PENDING, Status.ROLLING_BACK}
)  # fmt: skip


@dataclass(frozen=True)
class PeeringSpec:
    """One peering of a region as ``linkplane region peer`` recorded it."""

    attachment_id: str
    peer_region: str
    #: The peer region's device pool, routed over the peering from the customers table.
    peer_device_cidr: str


@dataclass(frozen=True)
class RegionSpec:
    """What bootstrap built in one region (the ``region`` table), and its peerings."""

    name: str
    tgw_id: str
    tgw_arn: str
    core_table_id: str
    customers_table_id: str
    core_attachment_id: str
    core_vpc_cidr: str
    device_cidr: str
    peering_table_id: str | None = None
    peerings: tuple[PeeringSpec, ...] = ()


@dataclass(frozen=True)
class OwnedBreakout:
    """A breakout row as the audit needs it: its desired state and what it records owning."""

    id: int
    org_id: int
    region: str
    account: str
    status: Status
    cidrs: tuple[str, ...]
    share_arn: str | None
    attachment_id: str | None
    associated_table_id: str | None
    core_table_id: str | None
    routes: tuple[str, ...]
    #: VPN breakouts: the connection whose ``vpn`` attachment the breakout owns (recorded
    #: before the attachment is, which AWS lists while the connection is still pending).
    vpn_connection_id: str | None = None
    #: Type 4 (BGP HA): the second VPN connection and its ``vpn`` attachment.
    vpn_connection_id_2: str | None = None
    attachment_id_2: str | None = None
    #: The attachment the core routes lead to (type 4 after a failover: the second).
    routed_attachment_id: str | None = None
    #: Routes for the organisation's devices in other regions (any region's tables).
    crossregion: tuple[RemoteRoute, ...] = ()
    #: The device pools it serves, for the core policy (:func:`with_pools`); empty with one
    #: region.
    pools: tuple[str, ...] = ()
    #: A VPN breakout (types 2-4): no resource share, its attachments go with its connections.
    vpn: bool = False

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE

    @property
    def attachment_ids(self) -> tuple[str, ...]:
        """Every attachment the breakout owns (type 4: both VPN connections')."""
        return tuple(a for a in (self.attachment_id, self.attachment_id_2) if a)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def as_network(self) -> Breakout:
        # The attachment the routes lead to: type 4 after a failover routes to its second.
        return Breakout(self.org_id, self.cidrs, self.active, self.id,
                        self.routed_attachment_id or self.attachment_id, self.pools)  # fmt: skip


@dataclass
class Desired:
    """Everything the database says about the network."""

    endpoints: list[Endpoint]
    breakouts: list[OwnedBreakout]
    device_ranges: dict[int, list[IPv4Network]]
    regions: list[RegionSpec]

    def in_region(self, region: str) -> list[OwnedBreakout]:
        return [b for b in self.breakouts if b.region == region]

    def region(self, name: str) -> RegionSpec | None:
        return next((r for r in self.regions if r.name == name), None)


@dataclass(frozen=True)
class Ownership:
    """Which RAM shares of a TGW this installation may judge (and repair may delete).

    Shares tagged with ``installation`` are this installation's; shares tagged with another
    id never are. Untagged ones with a ``linkplane:breakout`` tag were made before
    installation ids existed: this installation's when ``accounts`` (every breakout the
    database ever recorded, Deactivated ones too) has that breakout for an account the share
    was shared with. A share without any linkplane tag was made by hand: judged as before.
    """

    installation: str
    accounts: dict[int, str]
    #: Every breakout the database ever recorded (Deactivated ones too), as the judgement of
    #: the installation's tagged VPN connections and customer gateways needs it.
    vpn: dict[int, VpnRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class VpnRecord:
    """A breakout's status and the VPN connections and customer gateways its row records."""

    status: Status
    vpn_connection_ids: frozenset[str]
    customer_gateway_ids: frozenset[str]


def load_ownership(session: Session, installation: str) -> Ownership:
    rows = session.execute(select(BreakoutRow.id, BreakoutRow.aws_account_id))
    return Ownership(installation, {breakout_id: account for breakout_id, account in rows},
                     load_vpn_records(session))  # fmt: skip


def load_vpn_records(session: Session) -> dict[int, VpnRecord]:
    """Every breakout's :class:`VpnRecord`. Read *after* the cloud: a breakout created (and
    its resources made) between an earlier read and the cloud's would look absent, and its
    fresh customer gateway stale."""
    rows = session.execute(select(
        BreakoutRow.id, BreakoutRow.status_id,
        BreakoutRow.vpn_connection_id, BreakoutRow.vpn_connection_id_2,
        BreakoutRow.customer_gateway_id, BreakoutRow.customer_gateway_id_2,
    ))  # fmt: skip
    return {
        r.id: VpnRecord(Status(r.status_id),
                        frozenset(v for v in (r.vpn_connection_id, r.vpn_connection_id_2) if v),
                        frozenset(g for g in (r.customer_gateway_id, r.customer_gateway_id_2)
                                  if g))
        for r in rows
    }  # fmt: skip


def load_desired(session: Session) -> Desired:
    regions = load_regions(session)
    return Desired(
        endpoints=load_endpoints(session),
        breakouts=with_pools(load_breakouts(session), regions),
        device_ranges=load_device_ranges(session),
        regions=regions,
    )


def with_pools(breakouts: Sequence[OwnedBreakout], regions: Sequence[RegionSpec]
               ) -> list[OwnedBreakout]:  # fmt: skip
    """Each breakout with the device pools it serves, once there are several regions: its
    attachment region's, and that of each region whose core table routes one of its CIDRs
    over a peering (as its row records). With one region every device is served, as before."""
    if len(regions) < 2:
        return list(breakouts)
    pools = {r.name: r.device_cidr for r in regions}
    cores = {r.core_table_id: r.device_cidr for r in regions}
    out = []
    for b in breakouts:
        served = [pools.get(b.region)] + [cores.get(r.route_table_id) for r in b.crossregion
                                          if r.kind == "tgw"]  # fmt: skip
        out.append(replace(b, pools=tuple(sorted({p for p in served if p}))))
    return out


def load_endpoints(session: Session) -> list[Endpoint]:
    """Every endpoint with an IPv4 address; eligibility facts from its SIM and profile."""
    rows = session.execute(
        select(
            EndpointRow.id, EndpointRow.org_id, EndpointRow.ip_address, EndpointRow.status,
            Sim.status, ServiceProfile.allow_cloud_connect,
        )
        .outerjoin(Sim, Sim.id == EndpointRow.sim_id)
        .outerjoin(ServiceProfile, ServiceProfile.id == EndpointRow.service_profile_id)
        .where(EndpointRow.ip_address.is_not(None), EndpointRow.status != EndpointStatus.DELETED)
    )  # fmt: skip
    return [
        Endpoint(
            org_id=org_id,
            ip=ip,
            enabled=status == EndpointStatus.ENABLED,
            sim_activated=sim_status == SimStatus.ACTIVATED,
            cloud_connect=bool(allowed),
            id=endpoint_id,
        )
        for endpoint_id, org_id, ip, status, sim_status, allowed in rows
        if ip and ":" not in ip
    ]


def load_breakouts(session: Session) -> list[OwnedBreakout]:
    """Every breakout that is not Deactivated (a Deactivated one owns nothing)."""
    rows = session.scalars(
        select(BreakoutRow).where(BreakoutRow.status_id != Status.DEACTIVATED)
    ).all()
    return [
        OwnedBreakout(
            id=r.id, org_id=r.org_id, region=r.region, account=r.aws_account_id,
            status=r.status, cidrs=tuple(r.cidr_list), share_arn=r.share_arn,
            attachment_id=r.attachment_id, associated_table_id=r.associated_route_table_id,
            core_table_id=r.core_route_table_id, routes=tuple(r.route_list),
            vpn_connection_id=r.vpn_connection_id,
            vpn_connection_id_2=r.vpn_connection_id_2, attachment_id_2=r.attachment_id_2,
            routed_attachment_id=r.routed_attachment_id,
            crossregion=tuple(crossregion.recorded(r)), vpn=r.is_vpn,
        )
        for r in rows
    ]


def load_device_ranges(session: Session) -> dict[int, list[IPv4Network]]:
    """Per organisation, its IPv4 address spaces (the device ranges the verifier judges)."""
    out: dict[int, list[IPv4Network]] = {}
    rows = session.execute(select(IpAddressSpace.org_id, IpAddressSpace.cidr))
    for org_id, cidr in rows:
        if org_id is not None and ":" not in cidr:
            out.setdefault(org_id, []).append(as_network(cidr))
    return out


def load_regions(session: Session) -> list[RegionSpec]:
    rows = session.scalars(select(Region).order_by(Region.name)).all()
    pools = {r.name: r.device_cidr for r in rows}
    peerings = session.scalars(select(RegionPeering).order_by(RegionPeering.id)).all()
    return [
        RegionSpec(
            name=r.name, tgw_id=r.tgw_id, tgw_arn=r.tgw_arn,
            core_table_id=r.core_route_table_id, customers_table_id=r.customers_route_table_id,
            core_attachment_id=r.core_attachment_id, core_vpc_cidr=r.core_vpc_cidr,
            device_cidr=r.device_cidr, peering_table_id=r.peering_route_table_id,
            peerings=tuple(
                PeeringSpec(p.attachment_id, p.other(r.name), pools.get(p.other(r.name), ""))
                for p in peerings if r.name in (p.region, p.peer_region)
            ),
        )
        for r in rows
        if r.tgw_id
    ]  # fmt: skip


# --- the cloud ------------------------------------------------------------------------------
@dataclass
class CloudState:
    """One TGW (and, when read, the provider's RAM shares) as the cloud port returns them."""

    tables: list[TgwRouteTable]
    routes: dict[str, list[TgwRoute]]
    attachments: list[TgwAttachment]
    associations: list[RouteTableAssociation]
    propagations: list[TgwPropagation]
    shares: list[ResourceShare] = field(default_factory=list)
    principals: list[ShareAssociation] = field(default_factory=list)
    share_resources: list[ShareAssociation] = field(default_factory=list)
    #: The audit's: the installation's tagged VPN connections on the TGW, customer gateways.
    vpn_connections: list[VpnConnection] = field(default_factory=list)
    customer_gateways: list[CustomerGateway] = field(default_factory=list)

    def topology(self, org_of_attachment: dict[str, int]) -> Topology:
        return Topology.from_reads(
            route_tables=self.tables,
            routes_by_table=self.routes,
            attachments=self.attachments,
            associations=self.associations,
            propagations=self.propagations,
            org_of_attachment=org_of_attachment,
        )


def read_cloud(cloud: CloudPort, region: RegionSpec, *, shares: bool,
               installation: str | None = None) -> CloudState:  # fmt: skip
    """Read the region's TGW; RAM shares and their associations too when ``shares``; with
    ``installation``, the VPN connections on the TGW and the customer gateways carrying its
    tag (one filtered read each: whatever linkplane did not tag is never read, so never
    judged)."""
    tables = cloud.find_route_tables(tgw_id=region.tgw_id)
    state = CloudState(
        tables=tables,
        routes={t.id: cloud.search_routes(t.id) for t in tables},
        attachments=cloud.list_attachments(tgw_id=region.tgw_id),
        associations=[a for t in tables for a in cloud.route_table_associations(t.id)],
        propagations=[p for t in tables for p in cloud.route_table_propagations(t.id)],
    )
    if shares:
        state.shares = cloud.list_resource_shares()
        state.principals = cloud.share_associations(association_type="PRINCIPAL")
        state.share_resources = cloud.share_associations(association_type="RESOURCE")
    if installation:
        tags = {INSTALLATION_TAG: installation}
        state.vpn_connections = cloud.list_vpn_connections(tgw_id=region.tgw_id, tags=tags)
        state.customer_gateways = cloud.list_customer_gateways(tags=tags)
    return state


def org_of_attachment(breakouts: Sequence[OwnedBreakout]) -> dict[str, int]:
    return {a: b.org_id for b in breakouts for a in b.attachment_ids}
