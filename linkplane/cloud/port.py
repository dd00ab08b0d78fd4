"""The cloud port: the AWS operations linkplane needs, as a Protocol over plain values.

Domain code and workflows depend on :class:`CloudPort` only. There is one implementation,
:class:`linkplane.cloud.aws.AwsCloud` (boto3), used for real AWS and the embedded cloud alike;
only endpoint and credentials differ. Every mutating call is idempotent (client tokens,
look-up-before-create, tags) because durable workflow steps run at least once.

Errors are raised as :mod:`linkplane.cloud.errors` classes, never as botocore exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PrincipalStatus(StrEnum):
    """How the provider sees a customer account's place in a resource share."""

    PENDING = "PENDING"  # invitation sent, not answered (RAM association ASSOCIATING)
    ACCEPTED = "ACCEPTED"  # RAM association ASSOCIATED
    REJECTED = "REJECTED"  # customer rejected the invitation
    EXPIRED = "EXPIRED"  # invitation expired unanswered
    GONE = "GONE"  # share or association no longer exists / DISASSOCIATED / FAILED


@dataclass(frozen=True)
class ResourceShare:
    arn: str
    name: str
    status: str
    owner_account_id: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShareAssociation:
    share_arn: str
    associated_entity: str  # account id for principals, ARN for resources
    association_type: str  # PRINCIPAL | RESOURCE
    status: str  # ASSOCIATING | ASSOCIATED | DISASSOCIATING | DISASSOCIATED | FAILED
    status_message: str = ""


def principal_status_of(assoc: ShareAssociation) -> PrincipalStatus:
    """A RAM principal association as the provider sees the invitation's fate.

    A sender cannot read the receiver's invitation, so REJECTED/EXPIRED are told apart by the
    association's status message when RAM gives one; otherwise the principal is just GONE.
    """
    if assoc.status == "ASSOCIATED":
        return PrincipalStatus.ACCEPTED
    if assoc.status == "ASSOCIATING":
        return PrincipalStatus.PENDING
    message = assoc.status_message.lower()
    if "reject" in message:
        return PrincipalStatus.REJECTED
    if "expire" in message:
        return PrincipalStatus.EXPIRED
    return PrincipalStatus.GONE


@dataclass(frozen=True)
class TransitGateway:
    id: str
    arn: str
    owner_id: str
    state: str
    auto_accept_shared_attachments: bool
    default_association: bool
    default_propagation: bool
    amazon_side_asn: int
    tags: dict[str, str] = field(default_factory=dict)
    #: ECMP over the BGP routes of several VPN connections (``VpnEcmpSupport``).
    vpn_ecmp_support: bool = False


@dataclass(frozen=True)
class TgwAttachment:
    id: str
    transit_gateway_id: str
    resource_type: str  # vpc | vpn | peering | direct-connect-gateway
    resource_id: str
    resource_owner_id: str
    state: str  # pendingAcceptance | pending | available | rejected | deleted | ...
    association_route_table_id: str | None = None
    association_state: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TgwRoute:
    route_table_id: str
    cidr: str
    type: str  # static | propagated
    state: str  # active | blackhole
    attachment_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TgwRouteTable:
    id: str
    transit_gateway_id: str
    state: str
    is_default_association: bool = False
    is_default_propagation: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteTableAssociation:
    route_table_id: str
    attachment_id: str
    resource_type: str
    state: str  # associating | associated | disassociating


@dataclass(frozen=True)
class TgwPropagation:
    route_table_id: str
    attachment_id: str
    state: str


@dataclass(frozen=True)
class Vpc:
    id: str
    cidr: str
    owner_id: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    cidr: str
    availability_zone: str


@dataclass(frozen=True)
class VpcRoute:
    route_table_id: str
    cidr: str
    target: str  # gateway, TGW id, ...


@dataclass(frozen=True)
class CustomerGateway:
    id: str
    public_ip: str
    asn: int
    state: str  # pending | available | deleting | deleted
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TunnelSpec:
    """What linkplane asks of one tunnel; empty lets AWS generate it."""

    psk: str = ""
    inside_cidr: str = ""


@dataclass(frozen=True)
class VpnTunnel:
    """One tunnel of a VPN connection (AWS gives two): options and ``VgwTelemetry``."""

    outside_ip: str
    inside_cidr: str
    psk: str
    status: str  # UP | DOWN
    status_message: str = ""
    last_status_change: str = ""  # ISO 8601, "" when AWS gave none


@dataclass(frozen=True)
class VpnConnection:
    id: str
    state: str  # pending | available | deleting | deleted
    customer_gateway_id: str
    transit_gateway_id: str
    static_routes_only: bool
    tunnels: tuple[VpnTunnel, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TunnelMetrics:
    """A tunnel's ``AWS/VPN`` metrics over a window: the last state (1 up, 0 down, None: no
    data point) and the bytes in and out."""

    vpn_id: str
    outside_ip: str
    state: float | None
    bytes_in: float
    bytes_out: float


class CloudPort(Protocol):
    """AWS operations of one account in one region.

    ``for_region`` returns the same account's port in another region.
    """

    @property
    def region(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    def for_region(self, region: str) -> CloudPort: ...

    def check_reachable(self) -> None:
        """Raise :class:`~linkplane.cloud.errors.EndpointUnreachable` if AWS can't be reached."""
        ...

    def list_regions(self) -> list[str]: ...

    def availability_zones(self) -> list[str]: ...

    # --- RAM (provider side) ---------------------------------------------------------------
    def ensure_resource_share(
        self,
        *,
        name: str,
        resource_arn: str,
        principal: str,
        client_token: str,
        tags: dict[str, str],
    ) -> ResourceShare:
        """Create the share, or return the one already created with this client token/name."""
        ...

    def find_resource_share(self, *, name: str) -> ResourceShare | None: ...

    def list_resource_shares(self, *, tag_key: str | None = None) -> list[ResourceShare]: ...

    def principal_status(self, *, share_arn: str, principal: str) -> PrincipalStatus: ...

    def share_associations(
        self, *, share_arn: str | None = None, association_type: str = "PRINCIPAL",
        status: str | None = None,
    ) -> list[ShareAssociation]:
        """The provider's share associations; ``status`` (e.g. ASSOCIATING) asks RAM for
        those only, so a read need not grow with every share ever accepted."""
        ...

    def associate_share_principal(self, *, share_arn: str, principal: str) -> None: ...

    def disassociate_share_principal(self, *, share_arn: str, principal: str) -> None: ...

    def delete_resource_share(self, *, share_arn: str) -> None:
        """Delete the share; deleting one already gone is not an error."""
        ...

    # --- Transit Gateway -------------------------------------------------------------------
    def create_transit_gateway(
        self, *, description: str, client_token: str, tags: dict[str, str]
    ) -> TransitGateway:
        """Create a TGW with auto-accept, default association and propagation disabled."""
        ...

    def describe_transit_gateway(self, tgw_id: str) -> TransitGateway | None: ...

    def enable_vpn_ecmp(self, tgw_id: str) -> None:
        """ModifyTransitGateway ``VpnEcmpSupport=enable`` (type 4's two connections)."""
        ...

    def find_transit_gateways(self, *, tags: dict[str, str]) -> list[TransitGateway]: ...

    def delete_transit_gateway(self, tgw_id: str) -> None: ...

    def create_route_table(self, *, tgw_id: str, tags: dict[str, str]) -> TgwRouteTable: ...

    def find_route_tables(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> list[TgwRouteTable]: ...

    def delete_route_table(self, route_table_id: str) -> None: ...

    def list_attachments(
        self,
        *,
        tgw_id: str,
        states: list[str] | None = None,
        resource_owner_id: str | None = None,
        resource_type: str | None = None,
    ) -> list[TgwAttachment]: ...

    def describe_attachment(self, attachment_id: str) -> TgwAttachment | None: ...

    def accept_vpc_attachment(self, attachment_id: str) -> TgwAttachment: ...

    def reject_vpc_attachment(self, attachment_id: str) -> TgwAttachment: ...

    def create_vpc_attachment(
        self, *, tgw_id: str, vpc_id: str, subnet_ids: list[str], tags: dict[str, str]
    ) -> TgwAttachment: ...

    def delete_vpc_attachment(self, attachment_id: str) -> None: ...

    def create_peering_attachment(
        self, *, tgw_id: str, peer_tgw_id: str, peer_region: str, tags: dict[str, str]
    ) -> TgwAttachment:
        """Request a peering of ``tgw_id`` with the same account's ``peer_tgw_id`` in
        ``peer_region``; a live peering of the two already requested is returned as is."""
        ...

    def accept_peering_attachment(self, attachment_id: str) -> TgwAttachment:
        """Accept on the peer region's side; one already accepted is returned as is."""
        ...

    def delete_peering_attachment(self, attachment_id: str) -> None:
        """Delete from either side; one already gone is success."""
        ...

    def associate_route_table(self, *, route_table_id: str, attachment_id: str) -> None:
        """Associate; already associated with this table is success."""
        ...

    def disassociate_route_table(self, *, route_table_id: str, attachment_id: str) -> None:
        """Disassociate; not associated is success."""
        ...

    def route_table_associations(self, route_table_id: str) -> list[RouteTableAssociation]: ...

    def route_table_propagations(self, route_table_id: str) -> list[TgwPropagation]: ...

    def create_static_route(
        self, *, route_table_id: str, cidr: str, attachment_id: str
    ) -> None:
        """Create or replace the static route so it points at ``attachment_id``."""
        ...

    def replace_static_route(self, *, route_table_id: str, cidr: str, attachment_id: str
                             ) -> bool:  # fmt: skip
        """Point an existing static route at ``attachment_id``; False (nothing created) when
        the route is gone, e.g. removed by a teardown meanwhile."""
        ...

    def delete_static_route(self, *, route_table_id: str, cidr: str) -> None:
        """Delete the static route; a route already gone is success."""
        ...

    def search_routes(self, route_table_id: str) -> list[TgwRoute]:
        """Every route of the table (static and propagated, active and blackhole), paginated."""
        ...

    def disable_route_table_propagation(self, *, route_table_id: str, attachment_id: str) -> None:
        """Stop ``attachment_id`` propagating into the table; not propagating is success."""
        ...

    # --- VPC ----------------------------------------------------------------------------------
    def create_vpc(self, *, cidr: str, tags: dict[str, str]) -> Vpc: ...

    def describe_vpc(self, vpc_id: str) -> Vpc | None: ...

    def find_vpcs(self, *, tags: dict[str, str]) -> list[Vpc]: ...

    def delete_vpc(self, vpc_id: str) -> None: ...

    def create_subnet(self, *, vpc_id: str, cidr: str, availability_zone: str) -> Subnet: ...

    def list_subnets(self, vpc_id: str) -> list[Subnet]: ...

    def delete_subnet(self, subnet_id: str) -> None: ...

    def main_route_table_id(self, vpc_id: str) -> str: ...

    def vpc_routes(self, route_table_id: str) -> list[VpcRoute]: ...

    def ensure_vpc_route_to_tgw(self, *, route_table_id: str, cidr: str, tgw_id: str) -> bool:
        """Route ``cidr`` to the TGW; return False when it already did."""
        ...

    def delete_vpc_route(self, *, route_table_id: str, cidr: str) -> None: ...

    # --- Site-to-Site VPN -----------------------------------------------------------------------
    def ensure_customer_gateway(
        self, *, public_ip: str, asn: int, device_name: str, tags: dict[str, str]
    ) -> CustomerGateway:
        """The gateway with these tags, else a new one (AWS answers an identical request with
        the existing gateway: type, IP, ASN and device name)."""
        ...

    def delete_customer_gateway(self, customer_gateway_id: str) -> None:
        """Delete; a gateway already gone is success."""
        ...

    def ensure_vpn_connection(
        self,
        *,
        customer_gateway_id: str,
        tgw_id: str,
        static_routes_only: bool,
        tunnels: tuple[TunnelSpec, ...],
        tags: dict[str, str],
    ) -> VpnConnection:
        """The live connection on ``tgw_id`` with these tags, else a new one."""
        ...

    def describe_vpn_connection(self, vpn_id: str) -> VpnConnection | None:
        """The connection, or None when it does not exist (deleted ones are returned)."""
        ...

    def list_vpn_connections(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> list[VpnConnection]:
        """Every non-deleted connection on the gateway (with these tags, when given), one
        paginated read (the watch; the audit)."""
        ...

    def list_customer_gateways(self, *, tags: dict[str, str]) -> list[CustomerGateway]:
        """Every customer gateway of the region with these tags that is not deleting or
        deleted: one read (the audit)."""
        ...

    def delete_vpn_connection(self, vpn_id: str) -> None:
        """Delete (AWS removes its ``vpn`` attachment too); already gone is success."""
        ...

    def vpn_attachment(self, *, tgw_id: str, vpn_id: str) -> TgwAttachment | None:
        """The gateway's ``vpn`` attachment of the connection, if listed and not gone."""
        ...

    def tunnel_metrics(
        self, tunnels: list[tuple[str, str]], *, window_seconds: int = 3600
    ) -> list[TunnelMetrics]:
        """``AWS/VPN`` TunnelState, TunnelDataIn and TunnelDataOut of each (VPN id, outside
        IP) over the last ``window_seconds``: one GetMetricData per 150 tunnels."""
        ...
