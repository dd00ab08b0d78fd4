"""Request and response bodies, with emnify's field names (reference: cloudconnect.yml).

Fields not in the emnify spec are linkplane extensions, documented in docs/cloud-connect.md:
``vpc_cidr``, ``aws_account_id``, ``expired``, ``status_reason``, ``revision``,
``aws_resources`` and ``history``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from linkplane.ids import Code, ascii_digits
from linkplane.text import SafeName, SafeText


class IdDescription(BaseModel):
    id: int
    description: str


class TypeRef(BaseModel):
    id: Code


def _type_id(value: Any) -> Any:
    """emnify's clients send ``type`` as 1, "1" or {"id": 1}: one number results, checked
    by ``Code`` (so ``true``, ``"²"`` or a huge number are refused, not read as a type)."""
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    if isinstance(value, str) and ascii_digits(value.strip()):
        return int(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError('must be a breakout type id: 1, "1" or {"id": 1}')


class BreakoutTgwCreate(BaseModel):
    """POST /api/v1/cnc/breakout/tgw. ``type`` may be 1, "1" or {"id": 1}."""

    model_config = ConfigDict(extra="forbid")  # unknown fields are refused, naming them

    type: Annotated[Code | None, BeforeValidator(_type_id)] = None
    name: SafeName = Field(min_length=1, max_length=128)
    description: SafeText = Field(default="", max_length=1000)
    vpc_cidr: list[str] = Field(max_length=1000)
    region: str = Field(min_length=1, max_length=32)
    aws_account_id: str = Field(min_length=1, max_length=32)

    def type_id(self) -> int | None:
        return self.type


class BreakoutVpnCreate(BaseModel):
    """POST /api/v1/cnc/breakout/vpn. ``type`` 2 (static), 3 (BGP) or 4 (BGP High
    Availability), bare or ``{"id": n}``; the service checks every field
    (``linkplane.attachments.vpn``)."""

    model_config = ConfigDict(extra="forbid")  # unknown fields are refused, naming them

    type: Annotated[Code | None, BeforeValidator(_type_id)] = None
    name: SafeName = Field(min_length=1, max_length=128)
    description: SafeText = Field(default="", max_length=1000)
    region: str = Field(min_length=1, max_length=32)
    public_ip: str = Field(min_length=1, max_length=64)
    #: Extension for type 4: the second VPN server's public IPv4 address (its own customer
    #: gateway and VPN connection); required for type 4, refused for the others.
    public_ip_2: str | None = Field(default=None, max_length=64)
    psk: str | None = None
    asn: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None  # AWS's customer range
    on_prem_cidr: list[str] = Field(max_length=1000)
    inside_cidr: list[str] = Field(default=[], max_length=1000)

    def type_id(self) -> int | None:
        return self.type


class TunnelMetrics(BaseModel):
    """emnify's last-hour metrics of a tunnel."""

    tunnel_state: str
    bytes_in: dict[str, float] = {}
    bytes_out: dict[str, float] = {}


class TunnelInformation(BaseModel):
    """emnify's ``tunnel_information``: one tunnel (the first that is up, else the first)."""

    public_ip: str
    outside_address: str
    inside_cidr: str
    asn: int | None = None
    metrics: TunnelMetrics


class VpnTunnelRead(BaseModel):
    """Extension: every tunnel of the VPN connection (AWS gives two; type 4 has four)."""

    vpn_connection_id: str | None = None
    #: The customer's VPN server the tunnel ends on (``public_ip`` or, type 4, ``public_ip_2``).
    customer_ip: str | None = None
    outside_address: str
    inside_cidr: str
    status: str
    last_status_change: str | None = None
    bytes_in: float = 0
    bytes_out: float = 0


class AwsResources(BaseModel):
    """Extension: the AWS resources this breakout owns right now."""

    transit_gateway_id: str | None = None
    resource_share_arn: str | None = None
    transit_gateway_attachment_id: str | None = None
    associated_route_table_id: str | None = None
    core_route_table_id: str | None = None
    routes: list[str] = []
    customer_gateway_id: str | None = None
    vpn_connection_id: str | None = None
    #: Routes for the organisation's devices in other regions, over a region peering
    #: (absent when there are none).
    crossregion_routes: list[str] | None = None
    #: Type 4: the second customer gateway, VPN connection and its attachment.
    customer_gateway_id_2: str | None = None
    vpn_connection_id_2: str | None = None
    transit_gateway_attachment_id_2: str | None = None


class BreakoutEventRead(BaseModel):
    """Extension: one entry of a breakout's history."""

    id: int
    timestamp: datetime
    event_type: str
    description: str
    actor: str
    severity: int
    detail: dict[str, Any] = {}


class BreakoutRead(BaseModel):
    id: int
    name: str
    description: str
    user_id: int | None = None
    creation_date: datetime
    #: Only in status 2 (Pending AWS Activation), as the spec says.
    accept_attachment_expiry_date: datetime | None = None
    termination_date: datetime | None = None
    aws_transit_gateway_attachment_id: str | None = None
    aws_vpn_connection_id: str | None = None
    status: IdDescription
    type: IdDescription
    region: str
    # --- extensions -------------------------------------------------------------------------
    vpc_cidr: list[str]
    aws_account_id: str
    expired: bool
    status_reason: str | None = None
    revision: int
    invitation_expiry_date: datetime | None = None
    aws_resources: AwsResources
    history: list[BreakoutEventRead] | None = None
    tunnel_information: TunnelInformation | None = None
    # --- VPN extensions (types 2-4) ---------------------------------------------------------
    on_prem_cidr: list[str] | None = None
    public_ip: str | None = None
    public_ip_2: str | None = None
    aws_vpn_connection_id_2: str | None = None
    asn: int | None = None
    inside_cidr: list[str] | None = None
    tunnels: list[VpnTunnelRead] | None = None


class AvailableRegion(BaseModel):
    attachment_region: str
    device_breakout_region: str


class CurrencyRef(BaseModel):
    id: int


class PriceRead(BaseModel):
    """emnify's monthly Cloud Connect price of a breakout type."""

    id: int
    breakout_type_id: int
    amount: float
    currency: CurrencyRef


class ListPrices(BaseModel):
    attachment_hour: float
    data_gb: float
    vpn_connection_hour: float


class BreakoutCostRead(BaseModel):
    """Extension: the breakout's AWS cost so far at AWS list prices, in USD. ``data_gb`` is
    an estimate (docs/cloud-connect.md, "Cost")."""

    breakout_id: int
    active_hours: float
    data_gb: float
    attachment_cost: float
    vpn_connection_cost: float
    data_cost: float
    amount: float
    currency: str = "USD"
    #: When it first became Active (None: never yet); the cost runs up to the request.
    since: datetime | None = None
    list_prices: ListPrices
