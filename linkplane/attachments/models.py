"""Breakout tables, and the lifecycle of a breakout written once.

A breakout row is the desired state plus the record of every AWS resource the workflow
created for it (share ARN, attachment id, association, routes). Compensations and deletion
undo exactly what the row records, so a step that ran is always undone and nothing else is.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class BreakoutType(IntEnum):
    """emnify breakout type ids; linkplane provisions TGW and the three IPsec VPN types."""

    TGW = 1
    IPSEC_VPN = 2
    VPN_BGP = 3
    VPN_BGP_HA = 4
    DIRECT_CONNECT = 5


#: The IPsec VPN types linkplane provisions (4, BGP HA: two connections, four tunnels).
VPN_TYPES = frozenset({BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA})
#: The VPN types with a BGP session per tunnel.
BGP_TYPES = frozenset({BreakoutType.VPN_BGP, BreakoutType.VPN_BGP_HA})
#: The types a breakout can be created with today.
PROVISIONED_TYPES = frozenset({BreakoutType.TGW}) | VPN_TYPES

TYPE_DESCRIPTION: dict[BreakoutType, str] = {
    BreakoutType.TGW: "Transit Gateway",
    BreakoutType.IPSEC_VPN: "IPSec VPN",
    BreakoutType.VPN_BGP: "IPSec VPN BGP",
    BreakoutType.VPN_BGP_HA: "IPSec VPN BGP High Availability",
    BreakoutType.DIRECT_CONNECT: "Direct Connect",
}


class Status(IntEnum):
    """emnify status ids; docs/cloud-connect.md maps workflow phases onto them."""

    PENDING_CUSTOMER_ACTION = 1  # share created, waiting for the invitation to be accepted
    PENDING_AWS_ACTIVATION = 2  # waiting for the customer's attachment (or expired)
    PENDING_EGN_ACTIVATION = 3  # accepting the attachment, waiting for it to be available
    PENDING_CRG_ACTIVATION = 4  # associating and routing in the core route table
    ACTIVE = 5
    DEACTIVATION_PENDING = 6  # deleting (asked by the user or the customer detached)
    DEACTIVATED = 7  # final; ``status_reason`` says why
    ROLLING_BACK = 8  # a failure, rejection or expiry is undoing what was done


STATUS_DESCRIPTION: dict[Status, str] = {
    Status.PENDING_CUSTOMER_ACTION: "Pending Customer Action",
    Status.PENDING_AWS_ACTIVATION: "Pending AWS Activation",
    Status.PENDING_EGN_ACTIVATION: "Pending EGN Activation",
    Status.PENDING_CRG_ACTIVATION: "Pending CRG Activation",
    Status.ACTIVE: "Active",
    Status.DEACTIVATION_PENDING: "Deactivation Pending",
    Status.DEACTIVATED: "Deactivated",
    Status.ROLLING_BACK: "Rolling Back",
}

S = Status
#: The allowed transitions, written once; :func:`linkplane.attachments.service.transition`
#: refuses anything else. 2 -> 1 is a PATCH retry of an expired breakout; 1 -> 3 is a VPN
#: breakout's first step (it waits for no customer).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.PENDING_CUSTOMER_ACTION: frozenset(  # VPN breakouts need no customer: 1 -> 3
        {S.PENDING_AWS_ACTIVATION, S.PENDING_EGN_ACTIVATION, S.ROLLING_BACK,
         S.DEACTIVATION_PENDING}
    ),
    S.PENDING_AWS_ACTIVATION: frozenset(
        {S.PENDING_CUSTOMER_ACTION, S.PENDING_EGN_ACTIVATION, S.ROLLING_BACK,
         S.DEACTIVATION_PENDING}
    ),
    S.PENDING_EGN_ACTIVATION: frozenset(
        {S.PENDING_CRG_ACTIVATION, S.ROLLING_BACK, S.DEACTIVATION_PENDING}
    ),
    S.PENDING_CRG_ACTIVATION: frozenset({S.ACTIVE, S.ROLLING_BACK, S.DEACTIVATION_PENDING}),
    S.ACTIVE: frozenset({S.DEACTIVATION_PENDING}),
    S.DEACTIVATION_PENDING: frozenset({S.DEACTIVATED}),
    S.ROLLING_BACK: frozenset({S.DEACTIVATED, S.PENDING_AWS_ACTIVATION}),
    S.DEACTIVATED: frozenset(),
}  # fmt: skip

#: States in which a provisioning workflow is running (and may be woken or told to stop).
PROVISIONING = frozenset(
    {S.PENDING_CUSTOMER_ACTION, S.PENDING_AWS_ACTIVATION, S.PENDING_EGN_ACTIVATION,
     S.PENDING_CRG_ACTIVATION}
)  # fmt: skip


class Breakout(Base):
    __tablename__ = "breakout"
    __table_args__ = (
        Index("ix_breakout_org_status", "org_id", "status_id"),
        Index("ix_breakout_region_account", "region", "aws_account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type_id: Mapped[int] = mapped_column(Integer, default=BreakoutType.TGW)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(32))
    aws_account_id: Mapped[str] = mapped_column(String(12))
    #: JSON list of the requested CIDRs, in request order.
    vpc_cidrs: Mapped[str] = mapped_column(Text)
    status_id: Mapped[int] = mapped_column(Integer, default=Status.PENDING_CUSTOMER_ACTION)
    #: Why the breakout is in its current (final) state, e.g. "invitation rejected".
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Set when a wait ran out (status 2): a PATCH may retry it.
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Provisioning attempt; the workflow id is ``breakout-<id>-<revision>``.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    delete_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    creation_date: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    invitation_expiry_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accept_attachment_expiry_date: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    termination_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # --- AWS resources this breakout owns (what compensations undo) -------------------------
    tgw_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    share_arn: Mapped[str | None] = mapped_column(String(256), nullable=True)
    attachment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The customers route table the attachment is associated with (None: not associated).
    associated_route_table_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The core route table holding this breakout's static routes.
    core_route_table_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: JSON list of CIDRs routed in the core table to ``attachment_id``.
    routes: Mapped[str] = mapped_column(Text, default="[]")
    # --- VPN breakouts (types 2-3): the request, and the VPN resources it owns -------------
    #: The customer's VPN server (its customer gateway's IP); None for TGW breakouts.
    vpn_public_ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    #: The customer's BGP ASN (type 3; type 2: AWS's default 65000).
    vpn_asn: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The pre-shared key of every tunnel (given or generated at creation), sealed with
    #: AES-GCM (:func:`linkplane.attachments.vpn.seal_psk`): never stored in clear.
    vpn_psk_sealed: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: JSON list of the requested tunnel inside CIDRs (empty: AWS picks them).
    vpn_inside_cidrs: Mapped[str] = mapped_column(Text, default="[]")
    customer_gateway_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vpn_connection_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Type 4 (BGP HA): the second customer gateway and VPN connection, and the latter's
    # ``vpn`` attachment (the first connection's is ``attachment_id``).
    vpn_public_ip_2: Mapped[str | None] = mapped_column(String(45), nullable=True)
    customer_gateway_id_2: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vpn_connection_id_2: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attachment_id_2: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Type 4: the connection the core routes lead to (None: the first); the tunnel watch
    #: fails over to the other one when this one has no tunnel up and the other has.
    vpn_routed_connection: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: JSON list, one object per tunnel, as last seen: vpn_connection_id, outside_ip,
    #: inside_cidr, status, last_status_change and the last hour's bytes_in / bytes_out
    #: (the tunnel watch). Two tunnels per connection.
    vpn_tunnels: Mapped[str] = mapped_column(Text, default="[]")
    #: JSON list of routes over a region peering for devices that break out in another
    #: region (see linkplane.attachments.crossregion), each recorded before it is created.
    crossregion_routes: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")

    @property
    def status(self) -> Status:
        return Status(self.status_id)

    @property
    def cidr_list(self) -> list[str]:
        cidrs: list[str] = json.loads(self.vpc_cidrs)
        return cidrs

    @property
    def route_list(self) -> list[str]:
        routes: list[str] = json.loads(self.routes or "[]")
        return routes

    @property
    def is_vpn(self) -> bool:
        return self.type_id in VPN_TYPES

    @property
    def vpn_connection_ids(self) -> list[str]:
        """The VPN connections the row records (two for type 4)."""
        return [v for v in (self.vpn_connection_id, self.vpn_connection_id_2) if v]

    @property
    def routed_attachment_id(self) -> str | None:
        """The attachment the core routes lead to (type 4 after a failover: the second)."""
        return self.attachment_id_2 if self.vpn_routed_connection == 2 else self.attachment_id

    @property
    def vpn_attachment_ids(self) -> list[str]:
        return [a for a in (self.attachment_id, self.attachment_id_2) if a] if self.is_vpn else []

    @property
    def inside_cidr_list(self) -> list[str]:
        cidrs: list[str] = json.loads(self.vpn_inside_cidrs or "[]")
        return cidrs

    @property
    def tunnel_list(self) -> list[dict[str, Any]]:
        tunnels: list[dict[str, Any]] = json.loads(self.vpn_tunnels or "[]")
        return tunnels

    @property
    def workflow_id(self) -> str:
        return workflow_id(self.id, self.revision)


class BreakoutCidr(Base):
    """One of a breakout's ``vpc_cidrs`` as an integer range, written once at create.

    A create must refuse CIDRs that overlap any live breakout on the TGW. Reading every live
    breakout per create made filling 10,000 parked breakouts quadratic; CIDR blocks overlap
    only by containment, so this index answers "what could clash with this block" with 33
    exact (start, prefix length) keys for its supernets and one start range for its subnets.
    """

    __tablename__ = "breakout_cidr"
    __table_args__ = (Index("ix_breakout_cidr_start", "start", "prefixlen"),)

    breakout_id: Mapped[int] = mapped_column(
        ForeignKey("breakout.id", ondelete="CASCADE"), primary_key=True
    )
    #: The CIDR's place in ``vpc_cidrs`` (request order).
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cidr: Mapped[str] = mapped_column(String(18))
    #: The network address as an unsigned 32-bit integer (hence BigInteger on PostgreSQL).
    start: Mapped[int] = mapped_column(BigInteger)
    prefixlen: Mapped[int] = mapped_column(Integer)


#: Tags of a breakout's resource share (besides ``linkplane:installation``); the audit reads
#: the breakout tag to recognise the share of a breakout whose workflow is creating it.
BREAKOUT_TAG = "linkplane:breakout"
REVISION_TAG = "linkplane:revision"


def workflow_id(breakout_id: int, revision: int) -> str:
    """The deterministic id of a breakout's provisioning workflow."""
    return f"breakout-{breakout_id}-{revision}"
