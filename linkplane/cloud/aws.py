"""The boto3 implementation of :class:`~linkplane.cloud.port.CloudPort`.

Every AWS call goes through :meth:`AwsCloud._call`: the process-wide rate limiter first,
then the call inside :func:`~linkplane.cloud.translate.translated`, all under the one
:class:`~linkplane.cloud.retry.RetryPolicy`. Paginated APIs are read with explicit
NextToken loops so that each page is limited and retried on its own.

Idempotency, because workflow steps run at least once: look-up-before-create by tags (TGWs,
route tables, VPCs), by natural keys (subnet CIDR, one VPC attachment per VPC and TGW, a
static route's CIDR), RAM client tokens, and "already gone"/"already done" treated as
success in deletes, associations and accepts.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config

from linkplane.cloud.errors import CloudError, ResourceConflict, ResourceNotFound
from linkplane.cloud.port import (
    CustomerGateway,
    PrincipalStatus,
    ResourceShare,
    RouteTableAssociation,
    ShareAssociation,
    Subnet,
    TgwAttachment,
    TgwPropagation,
    TgwRoute,
    TgwRouteTable,
    TransitGateway,
    TunnelMetrics,
    TunnelSpec,
    Vpc,
    VpcRoute,
    VpnConnection,
    VpnTunnel,
    principal_status_of,
)
from linkplane.cloud.ratelimit import PROCESS_LIMITER, Limiter, action_class
from linkplane.cloud.retry import NO_RETRY, RetryPolicy
from linkplane.cloud.translate import translated
from linkplane.ops import metrics

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import (
        FilterTypeDef,
        TagSpecificationTypeDef,
        TagTypeDef,
    )
    from mypy_boto3_ram import RAMClient
    from mypy_boto3_sts import STSClient

T = TypeVar("T")

#: botocore retries nothing: :mod:`linkplane.cloud.retry` is the one retry policy.
BOTO_CONFIG = Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
    max_pool_connections=32,
)

#: Tag key holding the caller's idempotency token where the API has no ClientToken.
TOKEN_TAG = "linkplane:client-token"  # noqa: S105 - a tag key, not a secret
_GONE_TGW = {"deleting", "deleted"}
_GONE_ATTACHMENT = {"deleting", "deleted", "rejecting", "rejected", "failing", "failed"}


class SessionSource:
    """Makes the boto3 session once, on first use, for every region's adapter to share.

    boto3 sessions are not thread-safe to create clients from concurrently; the lock makes
    creation single-threaded. Deferring the session keeps network I/O (an STS assume-role
    against the embedded cloud) out of constructors and inside translated, retried calls.
    """

    def __init__(self, make: Callable[[], boto3.Session], endpoint_url: str | None) -> None:
        self._make = make
        self.endpoint_url = endpoint_url or None
        self._session: boto3.Session | None = None
        self.lock = threading.Lock()

    def session(self) -> boto3.Session:
        with self.lock:
            if self._session is None:
                self._session = self._make()
            return self._session


def _tags(items: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """EC2 (Key/Value) and RAM (key/value) tag lists as a dict."""
    out: dict[str, str] = {}
    for item in items or ():
        key = item.get("Key", item.get("key"))
        if key is not None:
            out[str(key)] = str(item.get("Value", item.get("value", "")))
    return out


def _ec2_tags(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _tag_spec(resource_type: Any, tags: Mapping[str, str]) -> list[TagSpecificationTypeDef]:
    if not tags:
        return []
    return [{"ResourceType": resource_type, "Tags": _ec2_tags(tags)}]


def _tag_filters(tags: Mapping[str, str] | None) -> list[FilterTypeDef]:
    return [{"Name": f"tag:{k}", "Values": [v]} for k, v in (tags or {}).items()]


def _has_tags(actual: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    return all(actual.get(k) == v for k, v in (wanted or {}).items())


class AwsCloud:
    """AWS operations of one account in one region (see :class:`CloudPort`)."""

    def __init__(
        self,
        source: SessionSource,
        *,
        region: str,
        account_id: str | None = None,
        policy: RetryPolicy | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self._source = source
        self._region = region
        self._known_account = account_id
        self._policy = policy or RetryPolicy()
        self._limiter = limiter or PROCESS_LIMITER

    # --- plumbing ----------------------------------------------------------------------------
    @property
    def region(self) -> str:
        return self._region

    @cached_property
    def _account(self) -> str:
        if self._known_account:
            return self._known_account
        ident = self._call("sts", "GetCallerIdentity", lambda: self._sts.get_caller_identity())
        return ident["Account"]

    @property
    def account_id(self) -> str:
        return self._account

    def for_region(self, region: str) -> AwsCloud:
        return AwsCloud(
            self._source,
            region=region,
            account_id=self._known_account,
            policy=self._policy,
            limiter=self._limiter,
        )

    def _client(self, service: str) -> Any:
        session = self._source.session()
        with self._source.lock:
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=self._region,
                endpoint_url=self._source.endpoint_url,
                config=BOTO_CONFIG,
            )

    @cached_property
    def ec2(self) -> EC2Client:
        client: EC2Client = self._translated_once("CreateClient", lambda: self._client("ec2"))
        return client

    @cached_property
    def ram(self) -> RAMClient:
        client: RAMClient = self._translated_once("CreateClient", lambda: self._client("ram"))
        return client

    @cached_property
    def _sts(self) -> STSClient:
        client: STSClient = self._translated_once("CreateClient", lambda: self._client("sts"))
        return client

    def _translated_once(self, operation: str, fn: Callable[[], T]) -> T:
        def attempt() -> T:
            with translated(operation):
                return fn()

        return self._policy.call(attempt, operation=operation)

    def _call(self, service: str, action: str, fn: Callable[[], T]) -> T:
        """Rate-limit, translate and retry one AWS request."""
        account = self._known_account or "self"

        def attempt() -> T:
            waited = self._limiter.acquire(
                service=service, account=account, region=self._region, action=action
            )
            metrics.AWS_BUDGET_WAIT.labels(service, action_class(action)).observe(waited)
            try:
                with translated(action):
                    result = fn()
            except CloudError as exc:
                metrics.aws_call(service, action, exc)
                raise
            metrics.aws_call(service, action)
            return result

        return self._policy.call(attempt, operation=action)

    def _ec2(self, action: str, fn: Callable[[], T]) -> T:
        return self._call("ec2", action, fn)

    def _ram(self, action: str, fn: Callable[[], T]) -> T:
        return self._call("ram", action, fn)

    def _pages(
        self, service: str, action: str, fn: Callable[..., Any], key: str, **kwargs: Any
    ) -> list[Any]:
        """Every item of a paginated read, one limited and retried request per page.

        EC2 calls its token ``NextToken``, RAM ``nextToken``.
        """
        token_name = "nextToken" if service == "ram" else "NextToken"
        items: list[Any] = []
        token: str | None = None
        while True:
            args = {**kwargs, token_name: token} if token else kwargs
            page = self._call(service, action, partial(fn, **args))
            items.extend(page.get(key, []))
            token = page.get(token_name)
            if not token:
                return items

    def check_reachable(self) -> None:
        def probe() -> None:
            with translated("DescribeRegions"):
                self._client("ec2").describe_regions(RegionNames=[self._region])

        NO_RETRY.call(probe, operation="DescribeRegions")

    def list_regions(self) -> list[str]:
        out = self._ec2("DescribeRegions", lambda: self.ec2.describe_regions())
        return sorted(r["RegionName"] for r in out.get("Regions", []) if "RegionName" in r)

    def availability_zones(self) -> list[str]:
        out = self._ec2(
            "DescribeAvailabilityZones",
            lambda: self.ec2.describe_availability_zones(
                Filters=[{"Name": "state", "Values": ["available"]}]
            ),
        )
        zones = out.get("AvailabilityZones", [])
        return sorted(z["ZoneName"] for z in zones if "ZoneName" in z)

    # --- RAM ---------------------------------------------------------------------------------
    def ensure_resource_share(
        self,
        *,
        name: str,
        resource_arn: str,
        principal: str,
        client_token: str,
        tags: dict[str, str],
    ) -> ResourceShare:
        found = self.find_resource_share(name=name)
        if found is not None:
            return found
        out = self._ram(
            "CreateResourceShare",
            lambda: self.ram.create_resource_share(
                name=name,
                resourceArns=[resource_arn],
                principals=[principal],
                allowExternalPrincipals=True,
                clientToken=client_token,
                tags=[{"key": k, "value": v} for k, v in tags.items()],
            ),
        )
        return _share(out["resourceShare"])

    def find_resource_share(self, *, name: str) -> ResourceShare | None:
        shares = self._pages(
            "ram", "GetResourceShares", self.ram.get_resource_shares, "resourceShares",
            resourceOwner="SELF", name=name,
        )
        live = [_share(s) for s in shares if s.get("status") not in _GONE_SHARE]
        return next((s for s in live if s.name == name), None)

    def list_resource_shares(self, *, tag_key: str | None = None) -> list[ResourceShare]:
        extra: dict[str, Any] = {"tagFilters": [{"tagKey": tag_key}]} if tag_key else {}
        shares = self._pages(
            "ram", "GetResourceShares", self.ram.get_resource_shares, "resourceShares",
            resourceOwner="SELF", **extra,
        )
        return [_share(s) for s in shares if s.get("status") not in _GONE_SHARE]

    def share_associations(
        self, *, share_arn: str | None = None, association_type: str = "PRINCIPAL",
        status: str | None = None,
    ) -> list[ShareAssociation]:
        extra: dict[str, Any] = {"resourceShareArns": [share_arn]} if share_arn else {}
        if status:
            extra["associationStatus"] = status
        items = self._pages(
            "ram", "GetResourceShareAssociations", self.ram.get_resource_share_associations,
            "resourceShareAssociations", associationType=association_type, **extra,
        )
        return [
            ShareAssociation(
                share_arn=a.get("resourceShareArn", ""),
                associated_entity=a.get("associatedEntity", ""),
                association_type=a.get("associationType", association_type),
                status=a.get("status", ""),
                status_message=a.get("statusMessage", ""),
            )
            for a in items
            if share_arn is None or a.get("resourceShareArn") == share_arn
        ]

    def principal_status(self, *, share_arn: str, principal: str) -> PrincipalStatus:
        try:
            assocs = self.share_associations(share_arn=share_arn)
        except ResourceNotFound:
            return PrincipalStatus.GONE
        mine = [a for a in assocs if a.associated_entity == principal]
        if not mine:
            return PrincipalStatus.GONE
        return principal_status_of(mine[-1])

    def associate_share_principal(self, *, share_arn: str, principal: str) -> None:
        # Re-associating an associated principal is accepted by RAM: naturally idempotent.
        self._ram(
            "AssociateResourceShare",
            lambda: self.ram.associate_resource_share(
                resourceShareArn=share_arn, principals=[principal]
            ),
        )

    def disassociate_share_principal(self, *, share_arn: str, principal: str) -> None:
        if self.principal_status(share_arn=share_arn, principal=principal) is PrincipalStatus.GONE:
            return
        try:
            self._ram(
                "DisassociateResourceShare",
                lambda: self.ram.disassociate_resource_share(
                    resourceShareArn=share_arn, principals=[principal]
                ),
            )
        except ResourceNotFound:
            return

    def delete_resource_share(self, *, share_arn: str) -> None:
        try:
            self._ram(
                "DeleteResourceShare",
                lambda: self.ram.delete_resource_share(resourceShareArn=share_arn),
            )
        except ResourceNotFound:
            return
        except ResourceConflict:
            # Deleting a share that is already deleted(ing) is a state error in RAM; success.
            if self._share_status(share_arn) not in _GONE_SHARE:
                raise

    def _share_status(self, share_arn: str) -> str:
        try:
            shares = self._pages(
                "ram", "GetResourceShares", self.ram.get_resource_shares, "resourceShares",
                resourceOwner="SELF", resourceShareArns=[share_arn],
            )
        except ResourceNotFound:
            return "DELETED"
        return str(shares[0].get("status", "")) if shares else "DELETED"

    # --- Transit Gateway ----------------------------------------------------------------------
    def create_transit_gateway(
        self, *, description: str, client_token: str, tags: dict[str, str]
    ) -> TransitGateway:
        """CreateTransitGateway has no ClientToken: the token is a tag, looked up first."""
        token_tags = {**tags, TOKEN_TAG: client_token}
        existing = self.find_transit_gateways(tags={TOKEN_TAG: client_token})
        if existing:
            return existing[0]
        out = self._ec2(
            "CreateTransitGateway",
            lambda: self.ec2.create_transit_gateway(
                Description=description,
                Options={
                    "AutoAcceptSharedAttachments": "disable",
                    "DefaultRouteTableAssociation": "disable",
                    "DefaultRouteTablePropagation": "disable",
                    "DnsSupport": "enable",
                    "VpnEcmpSupport": "enable",
                },
                TagSpecifications=_tag_spec("transit-gateway", token_tags),
            ),
        )
        return _tgw(out["TransitGateway"])

    def enable_vpn_ecmp(self, tgw_id: str) -> None:
        """Idempotent: enabling what is enabled changes nothing."""
        self._ec2("ModifyTransitGateway", lambda: self.ec2.modify_transit_gateway(
            TransitGatewayId=tgw_id, Options={"VpnEcmpSupport": "enable"}))  # fmt: skip

    def describe_transit_gateway(self, tgw_id: str) -> TransitGateway | None:
        """The TGW, or None when it does not exist or is deleting/deleted."""
        try:
            items = self._pages(
                "ec2", "DescribeTransitGateways", self.ec2.describe_transit_gateways,
                "TransitGateways", TransitGatewayIds=[tgw_id],
            )
        except ResourceNotFound:
            return None
        found = [_tgw(t) for t in items if t.get("TransitGatewayId") == tgw_id]
        return found[0] if found and found[0].state not in _GONE_TGW else None

    def find_transit_gateways(self, *, tags: dict[str, str]) -> list[TransitGateway]:
        items = self._pages(
            "ec2", "DescribeTransitGateways", self.ec2.describe_transit_gateways,
            "TransitGateways", Filters=_tag_filters(tags),
        )
        tgws = [_tgw(t) for t in items]
        return [t for t in tgws if t.state not in _GONE_TGW and _has_tags(t.tags, tags)]

    def delete_transit_gateway(self, tgw_id: str) -> None:
        if self.describe_transit_gateway(tgw_id) is None:
            return
        try:
            self._ec2(
                "DeleteTransitGateway",
                lambda: self.ec2.delete_transit_gateway(TransitGatewayId=tgw_id),
            )
        except ResourceNotFound:
            return

    def create_route_table(self, *, tgw_id: str, tags: dict[str, str]) -> TgwRouteTable:
        """Look up a table of this TGW with exactly these tags first (when tags are given)."""
        if tags:
            existing = self.find_route_tables(tgw_id=tgw_id, tags=tags)
            if existing:
                return existing[0]
        out = self._ec2(
            "CreateTransitGatewayRouteTable",
            lambda: self.ec2.create_transit_gateway_route_table(
                TransitGatewayId=tgw_id,
                TagSpecifications=_tag_spec("transit-gateway-route-table", tags),
            ),
        )
        return _route_table(out["TransitGatewayRouteTable"])

    def find_route_tables(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> list[TgwRouteTable]:
        filters: list[FilterTypeDef] = [{"Name": "transit-gateway-id", "Values": [tgw_id]}]
        items = self._pages(
            "ec2", "DescribeTransitGatewayRouteTables",
            self.ec2.describe_transit_gateway_route_tables, "TransitGatewayRouteTables",
            Filters=filters + _tag_filters(tags),
        )
        tables = [_route_table(t) for t in items]
        return [
            t for t in tables
            if t.transit_gateway_id == tgw_id
            and t.state not in _GONE_TGW
            and _has_tags(t.tags, tags)
        ]

    def delete_route_table(self, route_table_id: str) -> None:
        try:
            self._ec2(
                "DeleteTransitGatewayRouteTable",
                lambda: self.ec2.delete_transit_gateway_route_table(
                    TransitGatewayRouteTableId=route_table_id
                ),
            )
        except ResourceNotFound:
            return

    def list_attachments(
        self,
        *,
        tgw_id: str,
        states: list[str] | None = None,
        resource_owner_id: str | None = None,
        resource_type: str | None = None,
    ) -> list[TgwAttachment]:
        filters: list[FilterTypeDef] = [{"Name": "transit-gateway-id", "Values": [tgw_id]}]
        if states:
            filters.append({"Name": "state", "Values": list(states)})
        if resource_owner_id:
            filters.append({"Name": "resource-owner-id", "Values": [resource_owner_id]})
        if resource_type:
            filters.append({"Name": "resource-type", "Values": [resource_type]})
        items = self._pages(
            "ec2", "DescribeTransitGatewayAttachments",
            self.ec2.describe_transit_gateway_attachments, "TransitGatewayAttachments",
            Filters=filters,
        )
        # Re-applied here: cheap, and it keeps callers correct where a filter is unsupported.
        return [
            a for a in map(_attachment, items)
            if a.transit_gateway_id == tgw_id
            and (not states or a.state in states)
            and (not resource_owner_id or a.resource_owner_id == resource_owner_id)
            and (not resource_type or a.resource_type == resource_type)
        ]

    def describe_attachment(self, attachment_id: str) -> TgwAttachment | None:
        try:
            items = self._pages(
                "ec2", "DescribeTransitGatewayAttachments",
                self.ec2.describe_transit_gateway_attachments, "TransitGatewayAttachments",
                TransitGatewayAttachmentIds=[attachment_id],
            )
        except ResourceNotFound:
            return None
        found = [_attachment(a) for a in items]
        return next((a for a in found if a.id == attachment_id), None)

    def _require_attachment(self, attachment_id: str) -> TgwAttachment:
        found = self.describe_attachment(attachment_id)
        if found is None:
            raise ResourceNotFound(
                f"transit gateway attachment {attachment_id} not found",
                aws_code="InvalidTransitGatewayAttachmentID.NotFound",
            )
        return found

    def accept_vpc_attachment(self, attachment_id: str) -> TgwAttachment:
        """Accept; an attachment already accepted (pending/available) is returned as is."""
        current = self._require_attachment(attachment_id)
        if current.state != "pendingAcceptance":
            if current.state in {"pending", "available", "modifying"}:
                return current
            raise ResourceConflict(
                f"attachment {attachment_id} is {current.state}; it cannot be accepted",
                aws_code="IncorrectState",
            )
        self._ec2(
            "AcceptTransitGatewayVpcAttachment",
            lambda: self.ec2.accept_transit_gateway_vpc_attachment(
                TransitGatewayAttachmentId=attachment_id
            ),
        )
        return self._require_attachment(attachment_id)

    def reject_vpc_attachment(self, attachment_id: str) -> TgwAttachment:
        """Reject; an attachment already rejecting/rejected is returned as is."""
        current = self._require_attachment(attachment_id)
        if current.state in {"rejecting", "rejected"}:
            return current
        self._ec2(
            "RejectTransitGatewayVpcAttachment",
            lambda: self.ec2.reject_transit_gateway_vpc_attachment(
                TransitGatewayAttachmentId=attachment_id
            ),
        )
        return self._require_attachment(attachment_id)

    def create_vpc_attachment(
        self, *, tgw_id: str, vpc_id: str, subnet_ids: list[str], tags: dict[str, str]
    ) -> TgwAttachment:
        """AWS allows one live attachment per VPC and TGW: return that one if it exists."""
        for existing in self.list_attachments(tgw_id=tgw_id, resource_type="vpc"):
            if existing.resource_id == vpc_id and existing.state not in _GONE_ATTACHMENT:
                return existing
        out = self._ec2(
            "CreateTransitGatewayVpcAttachment",
            lambda: self.ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw_id,
                VpcId=vpc_id,
                SubnetIds=subnet_ids,
                TagSpecifications=_tag_spec("transit-gateway-attachment", tags),
            ),
        )
        created = out["TransitGatewayVpcAttachment"]
        return self.describe_attachment(created.get("TransitGatewayAttachmentId", "")) or (
            _vpc_attachment(created, tags)
        )

    def delete_vpc_attachment(self, attachment_id: str) -> None:
        current = self.describe_attachment(attachment_id)
        if current is None or current.state in _GONE_ATTACHMENT:
            return
        try:
            self._ec2(
                "DeleteTransitGatewayVpcAttachment",
                lambda: self.ec2.delete_transit_gateway_vpc_attachment(
                    TransitGatewayAttachmentId=attachment_id
                ),
            )
        except ResourceNotFound:
            return

    def create_peering_attachment(
        self, *, tgw_id: str, peer_tgw_id: str, peer_region: str, tags: dict[str, str]
    ) -> TgwAttachment:
        for existing in self.list_attachments(tgw_id=tgw_id, resource_type="peering"):
            if existing.resource_id == peer_tgw_id and existing.state not in _GONE_ATTACHMENT:
                return existing
        out = self._ec2(
            "CreateTransitGatewayPeeringAttachment",
            lambda: self.ec2.create_transit_gateway_peering_attachment(
                TransitGatewayId=tgw_id,
                PeerTransitGatewayId=peer_tgw_id,
                PeerAccountId=self.account_id,
                PeerRegion=peer_region,
                TagSpecifications=_tag_spec("transit-gateway-attachment", tags),
            ),
        )
        created = out["TransitGatewayPeeringAttachment"]
        return self._require_attachment(str(created.get("TransitGatewayAttachmentId", "")))

    def accept_peering_attachment(self, attachment_id: str) -> TgwAttachment:
        current = self._require_attachment(attachment_id)
        if current.state != "pendingAcceptance":
            if current.state in {"pending", "available", "modifying"}:
                return current
            raise ResourceConflict(
                f"peering attachment {attachment_id} is {current.state}; it cannot be accepted",
                aws_code="IncorrectState",
            )
        self._ec2(
            "AcceptTransitGatewayPeeringAttachment",
            lambda: self.ec2.accept_transit_gateway_peering_attachment(
                TransitGatewayAttachmentId=attachment_id
            ),
        )
        return self._require_attachment(attachment_id)

    def delete_peering_attachment(self, attachment_id: str) -> None:
        current = self.describe_attachment(attachment_id)
        if current is None or current.state in _GONE_ATTACHMENT:
            return
        try:
            self._ec2(
                "DeleteTransitGatewayPeeringAttachment",
                lambda: self.ec2.delete_transit_gateway_peering_attachment(
                    TransitGatewayAttachmentId=attachment_id
                ),
            )
        except ResourceNotFound:
            return

    def associate_route_table(self, *, route_table_id: str, attachment_id: str) -> None:
        current = self._require_attachment(attachment_id)
        if _associated_with(current, route_table_id):
            return
        try:
            self._ec2(
                "AssociateTransitGatewayRouteTable",
                lambda: self.ec2.associate_transit_gateway_route_table(
                    TransitGatewayRouteTableId=route_table_id,
                    TransitGatewayAttachmentId=attachment_id,
                ),
            )
        except ResourceConflict:
            # A concurrent run may have associated it meanwhile: success if with this table.
            if not _associated_with(self._require_attachment(attachment_id), route_table_id):
                raise

    def disassociate_route_table(self, *, route_table_id: str, attachment_id: str) -> None:
        current = self.describe_attachment(attachment_id)
        if current is None or not _associated_with(current, route_table_id):
            return
        try:
            self._ec2(
                "DisassociateTransitGatewayRouteTable",
                lambda: self.ec2.disassociate_transit_gateway_route_table(
                    TransitGatewayRouteTableId=route_table_id,
                    TransitGatewayAttachmentId=attachment_id,
                ),
            )
        except ResourceNotFound:
            return

    def route_table_associations(self, route_table_id: str) -> list[RouteTableAssociation]:
        items = self._pages(
            "ec2", "GetTransitGatewayRouteTableAssociations",
            self.ec2.get_transit_gateway_route_table_associations, "Associations",
            TransitGatewayRouteTableId=route_table_id,
        )
        return [
            RouteTableAssociation(
                route_table_id=route_table_id,
                attachment_id=a.get("TransitGatewayAttachmentId", ""),
                resource_type=a.get("ResourceType", ""),
                state=a.get("State", ""),
            )
            for a in items
        ]

    def route_table_propagations(self, route_table_id: str) -> list[TgwPropagation]:
        items = self._pages(
            "ec2", "GetTransitGatewayRouteTablePropagations",
            self.ec2.get_transit_gateway_route_table_propagations,
            "TransitGatewayRouteTablePropagations",
            TransitGatewayRouteTableId=route_table_id,
        )
        return [
            TgwPropagation(
                route_table_id=route_table_id,
                attachment_id=p.get("TransitGatewayAttachmentId", ""),
                state=p.get("State", ""),
            )
            for p in items
        ]

    def _route_at(self, route_table_id: str, cidr: str) -> TgwRoute | None:
        """The table's route for exactly ``cidr``: one small search, not the whole table."""
        net = ipaddress.IPv4Network(cidr, strict=False)
        page = self._search(route_table_id, [_route_filter("exact", [net])])
        routes = [_route(route_table_id, item) for item in page["Routes"]]
        return next((r for r in routes if r.cidr in (cidr, str(net))), None)

    def create_static_route(self, *, route_table_id: str, cidr: str, attachment_id: str) -> None:
        found = self._route_at(route_table_id, cidr)
        existing = [found] if found is not None else []
        if existing and existing[0].type == "static":
            if existing[0].attachment_ids == (attachment_id,):
                return
            self._replace_route(route_table_id, cidr, attachment_id)
            return
        try:
            self._ec2(
                "CreateTransitGatewayRoute",
                lambda: self.ec2.create_transit_gateway_route(
                    DestinationCidrBlock=cidr,
                    TransitGatewayRouteTableId=route_table_id,
                    TransitGatewayAttachmentId=attachment_id,
                ),
            )
        except ResourceConflict as exc:
            if "AlreadyExists" not in exc.aws_code:
                raise
            self._replace_route(route_table_id, cidr, attachment_id)

    def replace_static_route(self, *, route_table_id: str, cidr: str, attachment_id: str
                             ) -> bool:  # fmt: skip
        try:
            self._replace_route(route_table_id, cidr, attachment_id)
        except ResourceNotFound:
            return False
        return True

    def _replace_route(self, route_table_id: str, cidr: str, attachment_id: str) -> None:
        self._ec2(
            "ReplaceTransitGatewayRoute",
            lambda: self.ec2.replace_transit_gateway_route(
                DestinationCidrBlock=cidr,
                TransitGatewayRouteTableId=route_table_id,
                TransitGatewayAttachmentId=attachment_id,
            ),
        )

    def delete_static_route(self, *, route_table_id: str, cidr: str) -> None:
        try:
            self._ec2(
                "DeleteTransitGatewayRoute",
                lambda: self.ec2.delete_transit_gateway_route(
                    TransitGatewayRouteTableId=route_table_id, DestinationCidrBlock=cidr
                ),
            )
        except ResourceNotFound:
            return

    def search_routes(self, route_table_id: str) -> list[TgwRoute]:
        """Every IPv4 route of the table, however many.

        SearchTransitGatewayRoutes has no NextToken: it answers at most 1,000 routes and sets
        ``AdditionalRoutesAvailable``. A truncated answer for a prefix P is completed by
        narrowing: Q = the smallest prefix holding the 1,000 routes seen; then one call for
        the routes inside Q (recursing, by halves when Q = P), one for the rest of P (the
        siblings along the path P -> Q, as one filter) and one for the routes containing Q.
        A few calls per 1,000 routes, never one per route (see bench/bench_audit.py).
        """
        found: dict[str, TgwRoute] = {}
        self._search_split(route_table_id, ipaddress.IPv4Network("0.0.0.0/0"), found, top=True)
        return list(found.values())

    def _search_split(
        self,
        table: str,
        prefix: ipaddress.IPv4Network,
        found: dict[str, TgwRoute],
        *,
        top: bool = False,
    ) -> None:
        page = self._search(table, [] if top else [_route_filter("subnet-of", [prefix])])
        routes = [_route(table, item) for item in page["Routes"]]
        found.update((r.cidr, r) for r in routes)
        if not page["AdditionalRoutesAvailable"]:
            return
        narrow = _common_prefix([r.cidr for r in routes if ":" not in r.cidr], prefix)
        self._collect(table, [_route_filter("supernet-of", [narrow])], found)
        if narrow == prefix:
            for half in prefix.subnets(prefixlen_diff=1) if prefix.prefixlen < 32 else ():
                self._search_split(table, half, found)
            return
        self._search_split(table, narrow, found)
        siblings = _siblings(prefix, narrow)
        page = self._search(table, [_route_filter("subnet-of", siblings)])
        if not page["AdditionalRoutesAvailable"]:
            found.update((r.cidr, r) for r in (_route(table, i) for i in page["Routes"]))
            return
        for sibling in siblings:
            self._search_split(table, sibling, found)

    def _collect(
        self, table: str, filters: list[FilterTypeDef], found: dict[str, TgwRoute]
    ) -> None:
        # At most 33 routes contain one prefix: never truncated.
        for item in self._search(table, filters)["Routes"]:
            route = _route(table, item)
            found[route.cidr] = route

    def _search(self, route_table_id: str, filters: list[FilterTypeDef]) -> dict[str, Any]:
        # No MaxResults: the API's default page is its maximum (1,000).
        every: list[FilterTypeDef] = [{"Name": "type", "Values": ["static", "propagated"]}]
        out = self._ec2(
            "SearchTransitGatewayRoutes",
            lambda: self.ec2.search_transit_gateway_routes(
                TransitGatewayRouteTableId=route_table_id, Filters=every + filters
            ),
        )
        return {"Routes": out.get("Routes", []),
                "AdditionalRoutesAvailable": out.get("AdditionalRoutesAvailable", False)}

    def disable_route_table_propagation(self, *, route_table_id: str, attachment_id: str) -> None:
        """Stop ``attachment_id`` propagating into the table; not propagating is success."""
        try:
            self._ec2(
                "DisableTransitGatewayRouteTablePropagation",
                lambda: self.ec2.disable_transit_gateway_route_table_propagation(
                    TransitGatewayRouteTableId=route_table_id,
                    TransitGatewayAttachmentId=attachment_id,
                ),
            )
        except (ResourceNotFound, ResourceConflict):
            if any(p.attachment_id == attachment_id and p.state in ("enabled", "enabling")
                   for p in self.route_table_propagations(route_table_id)):  # fmt: skip
                raise

    # --- VPC ----------------------------------------------------------------------------------
    def create_vpc(self, *, cidr: str, tags: dict[str, str]) -> Vpc:
        """Look up a VPC with these tags and this CIDR first (when tags are given)."""
        if tags:
            for vpc in self.find_vpcs(tags=tags):
                if vpc.cidr == cidr:
                    return vpc
        out = self._ec2(
            "CreateVpc",
            lambda: self.ec2.create_vpc(CidrBlock=cidr, TagSpecifications=_tag_spec("vpc", tags)),
        )
        return _vpc(out["Vpc"])

    def describe_vpc(self, vpc_id: str) -> Vpc | None:
        try:
            items = self._pages(
                "ec2", "DescribeVpcs", self.ec2.describe_vpcs, "Vpcs", VpcIds=[vpc_id]
            )
        except ResourceNotFound:
            return None
        found = [_vpc(v) for v in items if v.get("VpcId") == vpc_id]
        return found[0] if found else None

    def find_vpcs(self, *, tags: dict[str, str]) -> list[Vpc]:
        items = self._pages(
            "ec2", "DescribeVpcs", self.ec2.describe_vpcs, "Vpcs", Filters=_tag_filters(tags)
        )
        return [v for v in map(_vpc, items) if _has_tags(v.tags, tags)]

    def delete_vpc(self, vpc_id: str) -> None:
        try:
            self._ec2("DeleteVpc", lambda: self.ec2.delete_vpc(VpcId=vpc_id))
        except ResourceNotFound:
            return

    def create_subnet(self, *, vpc_id: str, cidr: str, availability_zone: str) -> Subnet:
        """A subnet with this CIDR in this VPC is the one asked for (CIDRs are unique)."""
        for subnet in self.list_subnets(vpc_id):
            if subnet.cidr == cidr:
                return subnet
        out = self._ec2(
            "CreateSubnet",
            lambda: self.ec2.create_subnet(
                VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=availability_zone
            ),
        )
        return _subnet(out["Subnet"])

    def list_subnets(self, vpc_id: str) -> list[Subnet]:
        items = self._pages(
            "ec2", "DescribeSubnets", self.ec2.describe_subnets, "Subnets",
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}],
        )
        return [s for s in map(_subnet, items) if s.vpc_id == vpc_id]

    def delete_subnet(self, subnet_id: str) -> None:
        try:
            self._ec2("DeleteSubnet", lambda: self.ec2.delete_subnet(SubnetId=subnet_id))
        except ResourceNotFound:
            return

    def main_route_table_id(self, vpc_id: str) -> str:
        items = self._pages(
            "ec2", "DescribeRouteTables", self.ec2.describe_route_tables, "RouteTables",
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "association.main", "Values": ["true"]},
            ],
        )
        for table in items:
            if any(a.get("Main") for a in table.get("Associations", [])):
                return str(table["RouteTableId"])
        raise ResourceNotFound(f"VPC {vpc_id} has no main route table", aws_code="NotFound")

    def vpc_routes(self, route_table_id: str) -> list[VpcRoute]:
        items = self._pages(
            "ec2", "DescribeRouteTables", self.ec2.describe_route_tables, "RouteTables",
            RouteTableIds=[route_table_id],
        )
        return [
            VpcRoute(
                route_table_id=route_table_id,
                cidr=r.get("DestinationCidrBlock", ""),
                target=_route_target(r),
            )
            for table in items
            for r in table.get("Routes", [])
            if r.get("DestinationCidrBlock")
        ]

    def ensure_vpc_route_to_tgw(self, *, route_table_id: str, cidr: str, tgw_id: str) -> bool:
        """Route ``cidr`` to the TGW; False when it already was.

        Creates first and reads only on ``RouteAlreadyExists``: a VPC route-table read returns
        every route of the table (filters select tables, not routes), and the core VPC's table
        has one route per breakout, so reading first made each breakout's routing O(fleet).
        """
        try:
            self._ec2(
                "CreateRoute",
                lambda: self.ec2.create_route(
                    RouteTableId=route_table_id, DestinationCidrBlock=cidr, TransitGatewayId=tgw_id
                ),
            )
            return True
        except ResourceConflict as exc:
            if "AlreadyExists" not in exc.aws_code:
                raise
        current = [r for r in self.vpc_routes(route_table_id) if r.cidr == cidr]
        if current and current[0].target == tgw_id:
            return False
        action = "ReplaceRoute" if current else "CreateRoute"  # gone since: create it after all
        method = self.ec2.replace_route if current else self.ec2.create_route
        self._ec2(
            action,
            lambda: method(
                RouteTableId=route_table_id, DestinationCidrBlock=cidr, TransitGatewayId=tgw_id
            ),
        )
        return True

    def delete_vpc_route(self, *, route_table_id: str, cidr: str) -> None:
        try:
            self._ec2(
                "DeleteRoute",
                lambda: self.ec2.delete_route(
                    RouteTableId=route_table_id, DestinationCidrBlock=cidr
                ),
            )
        except ResourceNotFound:
            return


    # --- Site-to-Site VPN -----------------------------------------------------------------------
    @cached_property
    def cloudwatch(self) -> Any:
        return self._translated_once("CreateClient", lambda: self._client("cloudwatch"))

    def _customer_gateways(self, tags: dict[str, str]) -> list[CustomerGateway]:
        out = self._ec2("DescribeCustomerGateways", lambda: self.ec2.describe_customer_gateways(
            Filters=_tag_filters(tags)))  # fmt: skip
        found = [_customer_gateway(g) for g in out.get("CustomerGateways", [])]
        return [g for g in found if g.state not in _GONE_VPN and _has_tags(g.tags, tags)]

    def ensure_customer_gateway(
        self, *, public_ip: str, asn: int, device_name: str, tags: dict[str, str]
    ) -> CustomerGateway:
        existing = self._customer_gateways(tags) if tags else []
        if existing:
            return existing[0]
        out = self._ec2("CreateCustomerGateway", lambda: self.ec2.create_customer_gateway(
            Type="ipsec.1", PublicIp=public_ip, BgpAsn=asn, DeviceName=device_name,
            TagSpecifications=_tag_spec("customer-gateway", tags)))  # fmt: skip
        return _customer_gateway(out["CustomerGateway"])

    def delete_customer_gateway(self, customer_gateway_id: str) -> None:
        try:
            self._ec2("DeleteCustomerGateway", lambda: self.ec2.delete_customer_gateway(
                CustomerGatewayId=customer_gateway_id))  # fmt: skip
        except ResourceNotFound:
            return

    def _vpn_connections(self, filters: list[FilterTypeDef]) -> list[VpnConnection]:
        out = self._ec2("DescribeVpnConnections",
                        lambda: self.ec2.describe_vpn_connections(Filters=filters))  # fmt: skip
        return [_vpn_connection(v) for v in out.get("VpnConnections", [])]

    def ensure_vpn_connection(
        self,
        *,
        customer_gateway_id: str,
        tgw_id: str,
        static_routes_only: bool,
        tunnels: tuple[TunnelSpec, ...],
        tags: dict[str, str],
    ) -> VpnConnection:
        """CreateVpnConnection has no ClientToken: the tags identify it, looked up first."""
        gateway: FilterTypeDef = {"Name": "transit-gateway-id", "Values": [tgw_id]}
        existing = [v for v in self._vpn_connections([gateway, *_tag_filters(tags)])
                    if v.state not in _GONE_VPN and _has_tags(v.tags, tags)]  # fmt: skip
        if existing:
            return existing[0]
        options: Any = {"StaticRoutesOnly": static_routes_only,
                                   "TunnelOptions": [_tunnel_option(t) for t in tunnels]}
        out = self._ec2("CreateVpnConnection", lambda: self.ec2.create_vpn_connection(
            Type="ipsec.1", CustomerGatewayId=customer_gateway_id, TransitGatewayId=tgw_id,
            Options=options, TagSpecifications=_tag_spec("vpn-connection", tags)))  # fmt: skip
        return _vpn_connection(out["VpnConnection"])

    def describe_vpn_connection(self, vpn_id: str) -> VpnConnection | None:
        try:
            out = self._ec2("DescribeVpnConnections", lambda: self.ec2.describe_vpn_connections(
                VpnConnectionIds=[vpn_id]))  # fmt: skip
        except ResourceNotFound:
            return None
        found = [_vpn_connection(v) for v in out.get("VpnConnections", [])]
        return next((v for v in found if v.id == vpn_id), None)

    def list_vpn_connections(
        self, *, tgw_id: str, tags: dict[str, str] | None = None
    ) -> list[VpnConnection]:
        gateway: FilterTypeDef = {"Name": "transit-gateway-id", "Values": [tgw_id]}
        found = self._vpn_connections([gateway, *_tag_filters(tags)])
        return [v for v in found if v.transit_gateway_id == tgw_id and v.state != "deleted"
                and _has_tags(v.tags, tags)]  # fmt: skip

    def list_customer_gateways(self, *, tags: dict[str, str]) -> list[CustomerGateway]:
        return self._customer_gateways(tags)

    def delete_vpn_connection(self, vpn_id: str) -> None:
        current = self.describe_vpn_connection(vpn_id)
        if current is None or current.state in _GONE_VPN:
            return
        try:
            self._ec2("DeleteVpnConnection",
                      lambda: self.ec2.delete_vpn_connection(VpnConnectionId=vpn_id))  # fmt: skip
        except ResourceNotFound:
            return

    def vpn_attachment(self, *, tgw_id: str, vpn_id: str) -> TgwAttachment | None:
        found = self.list_attachments(tgw_id=tgw_id, resource_type="vpn")
        live = [a for a in found if a.resource_id == vpn_id and a.state not in _GONE_ATTACHMENT]
        return live[0] if live else None

    def tunnel_metrics(
        self, tunnels: list[tuple[str, str]], *, window_seconds: int = 3600
    ) -> list[TunnelMetrics]:
        out: list[TunnelMetrics] = []
        for start in range(0, len(tunnels), _TUNNELS_PER_QUERY):
            out += self._tunnel_metrics(tunnels[start:start + _TUNNELS_PER_QUERY], window_seconds)
        return out

    def _tunnel_metrics(self, tunnels: list[tuple[str, str]], window: int) -> list[TunnelMetrics]:
        # A minute ahead: AWS takes a future end, and a data point of this very second counts.
        end = datetime.now(UTC) + timedelta(minutes=1)
        queries = [_metric_query(i, name, stat, vpn_id, ip, window)
                   for i, (vpn_id, ip) in enumerate(tunnels)
                   for name, stat in _TUNNEL_METRICS]  # fmt: skip
        results: dict[str, list[float]] = {}
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            page = self._call("cloudwatch", "GetMetricData", partial(
                self.cloudwatch.get_metric_data, MetricDataQueries=queries,
                StartTime=end - timedelta(seconds=window), EndTime=end,
                ScanBy="TimestampDescending", **extra))  # fmt: skip
            for result in page.get("MetricDataResults", []):
                results.setdefault(result["Id"], []).extend(result.get("Values", []))
            token = page.get("NextToken")
            if not token:
                break
        return [_tunnel_metric(i, vpn_id, ip, results) for i, (vpn_id, ip) in enumerate(tunnels)]


# --- conversions from boto3 dicts to port values -------------------------------------------
_GONE_SHARE = {"DELETING", "DELETED"}
_TARGET_KEYS = (
    "TransitGatewayId", "GatewayId", "NatGatewayId", "VpcPeeringConnectionId",
    "NetworkInterfaceId", "InstanceId", "EgressOnlyInternetGatewayId", "LocalGatewayId",
    "CarrierGatewayId", "CoreNetworkArn",
)


def _route_target(route: Mapping[str, Any]) -> str:
    return next((str(route[k]) for k in _TARGET_KEYS if route.get(k)), "")


def _share(item: Mapping[str, Any]) -> ResourceShare:
    return ResourceShare(
        arn=str(item.get("resourceShareArn", "")),
        name=str(item.get("name", "")),
        status=str(item.get("status", "")),
        owner_account_id=str(item.get("owningAccountId", "")),
        tags=_tags(item.get("tags")),
    )


def _enabled(options: Mapping[str, Any], key: str) -> bool:
    return options.get(key) == "enable"


def _tgw(item: Mapping[str, Any]) -> TransitGateway:
    options = item.get("Options", {})
    return TransitGateway(
        id=str(item.get("TransitGatewayId", "")),
        arn=str(item.get("TransitGatewayArn", "")),
        owner_id=str(item.get("OwnerId", "")),
        state=str(item.get("State", "")),
        auto_accept_shared_attachments=_enabled(options, "AutoAcceptSharedAttachments"),
        default_association=_enabled(options, "DefaultRouteTableAssociation"),
        default_propagation=_enabled(options, "DefaultRouteTablePropagation"),
        amazon_side_asn=int(options.get("AmazonSideAsn", 64512)),
        tags=_tags(item.get("Tags")),
        vpn_ecmp_support=_enabled(options, "VpnEcmpSupport"),
    )


def _route_table(item: Mapping[str, Any]) -> TgwRouteTable:
    return TgwRouteTable(
        id=str(item.get("TransitGatewayRouteTableId", "")),
        transit_gateway_id=str(item.get("TransitGatewayId", "")),
        state=str(item.get("State", "")),
        is_default_association=bool(item.get("DefaultAssociationRouteTable", False)),
        is_default_propagation=bool(item.get("DefaultPropagationRouteTable", False)),
        tags=_tags(item.get("Tags")),
    )


def _attachment(item: Mapping[str, Any]) -> TgwAttachment:
    assoc = item.get("Association") or {}
    return TgwAttachment(
        id=str(item.get("TransitGatewayAttachmentId", "")),
        transit_gateway_id=str(item.get("TransitGatewayId", "")),
        resource_type=str(item.get("ResourceType", "")),
        resource_id=str(item.get("ResourceId", "")),
        resource_owner_id=str(item.get("ResourceOwnerId", "")),
        state=str(item.get("State", "")),
        association_route_table_id=assoc.get("TransitGatewayRouteTableId"),
        association_state=assoc.get("State"),
        tags=_tags(item.get("Tags")),
    )


def _vpc_attachment(item: Mapping[str, Any], tags: Mapping[str, str]) -> TgwAttachment:
    return TgwAttachment(
        id=str(item.get("TransitGatewayAttachmentId", "")),
        transit_gateway_id=str(item.get("TransitGatewayId", "")),
        resource_type="vpc",
        resource_id=str(item.get("VpcId", "")),
        resource_owner_id=str(item.get("VpcOwnerId", "")),
        state=str(item.get("State", "")),
        tags=_tags(item.get("Tags")) or dict(tags),
    )


def _associated_with(attachment: TgwAttachment, route_table_id: str) -> bool:
    return attachment.association_route_table_id == route_table_id and (
        attachment.association_state in {"associating", "associated"}
    )


def _route_filter(kind: str, nets: Sequence[ipaddress.IPv4Network]) -> FilterTypeDef:
    return {"Name": f"route-search.{kind}-match", "Values": [str(n) for n in nets]}


def _common_prefix(cidrs: Sequence[str], within: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The smallest prefix inside ``within`` that holds every one of ``cidrs``."""
    nets = [ipaddress.IPv4Network(c, strict=False) for c in cidrs]
    if not nets:
        return within
    low = min(int(n.network_address) for n in nets)
    high = max(int(n.broadcast_address) for n in nets)
    length = max(within.prefixlen, 32 - (low ^ high).bit_length())
    return ipaddress.IPv4Network((low >> (32 - length) << (32 - length), length))


def _siblings(
    outer: ipaddress.IPv4Network, inner: ipaddress.IPv4Network
) -> list[ipaddress.IPv4Network]:
    """The prefixes that, with ``inner``, partition ``outer``: one per level between them."""
    out = []
    for length in range(outer.prefixlen + 1, inner.prefixlen + 1):
        step = inner.supernet(new_prefix=length)
        flipped = int(step.network_address) ^ (1 << (32 - length))
        out.append(ipaddress.IPv4Network((flipped, length)))
    return out


def _route(route_table_id: str, item: Mapping[str, Any]) -> TgwRoute:
    attachments = item.get("TransitGatewayAttachments") or []
    return TgwRoute(
        route_table_id=route_table_id,
        cidr=str(item.get("DestinationCidrBlock", "")),
        type=str(item.get("Type", "")),
        state=str(item.get("State", "")),
        attachment_ids=tuple(
            str(a["TransitGatewayAttachmentId"])
            for a in attachments
            if a.get("TransitGatewayAttachmentId")
        ),
    )


def _vpc(item: Mapping[str, Any]) -> Vpc:
    return Vpc(
        id=str(item.get("VpcId", "")),
        cidr=str(item.get("CidrBlock", "")),
        owner_id=str(item.get("OwnerId", "")),
        tags=_tags(item.get("Tags")),
    )


def _subnet(item: Mapping[str, Any]) -> Subnet:
    return Subnet(
        id=str(item.get("SubnetId", "")),
        vpc_id=str(item.get("VpcId", "")),
        cidr=str(item.get("CidrBlock", "")),
        availability_zone=str(item.get("AvailabilityZone", "")),
    )


_GONE_VPN = {"deleting", "deleted"}
#: GetMetricData takes 500 queries; three per tunnel.
_TUNNELS_PER_QUERY = 150
_TUNNEL_METRICS = (("TunnelState", "Maximum"), ("TunnelDataIn", "Sum"), ("TunnelDataOut", "Sum"))


def _customer_gateway(item: Mapping[str, Any]) -> CustomerGateway:
    return CustomerGateway(
        id=str(item.get("CustomerGatewayId", "")),
        public_ip=str(item.get("IpAddress", "")),
        asn=int(item.get("BgpAsn") or 0),
        state=str(item.get("State", "")),
        tags=_tags(item.get("Tags")),
    )


def _tunnel_option(spec: TunnelSpec) -> dict[str, str]:
    option: dict[str, str] = {}
    if spec.psk:
        option["PreSharedKey"] = spec.psk
    if spec.inside_cidr:
        option["TunnelInsideCidr"] = spec.inside_cidr
    return option


def _vpn_connection(item: Mapping[str, Any]) -> VpnConnection:
    options = item.get("Options") or {}
    telemetry = {t.get("OutsideIpAddress"): t for t in item.get("VgwTelemetry") or []}
    tunnels = []
    for option in options.get("TunnelOptions") or []:
        seen = telemetry.get(option.get("OutsideIpAddress"), {})
        changed = seen.get("LastStatusChange")
        tunnels.append(VpnTunnel(
            outside_ip=str(option.get("OutsideIpAddress", "")),
            inside_cidr=str(option.get("TunnelInsideCidr", "")),
            psk=str(option.get("PreSharedKey", "")),
            status=str(seen.get("Status", "DOWN")),
            status_message=str(seen.get("StatusMessage", "")),
            last_status_change=changed.isoformat() if isinstance(changed, datetime) else "",
        ))  # fmt: skip
    return VpnConnection(
        id=str(item.get("VpnConnectionId", "")),
        state=str(item.get("State", "")),
        customer_gateway_id=str(item.get("CustomerGatewayId", "")),
        transit_gateway_id=str(item.get("TransitGatewayId", "")),
        static_routes_only=bool(options.get("StaticRoutesOnly", False)),
        tunnels=tuple(tunnels),
        tags=_tags(item.get("Tags")),
    )


def _metric_query(index: int, name: str, stat: str, vpn_id: str, ip: str, window: int
                  ) -> dict[str, Any]:  # fmt: skip
    dimensions = [{"Name": "VpnId", "Value": vpn_id}, {"Name": "TunnelIpAddress", "Value": ip}]
    metric = {"Namespace": "AWS/VPN", "MetricName": name, "Dimensions": dimensions}
    # The whole window as one period: one value per tunnel and metric.
    return {"Id": f"{name.lower()}{index}", "ReturnData": True,
            "MetricStat": {"Metric": metric, "Period": window, "Stat": stat}}  # fmt: skip


def _tunnel_metric(index: int, vpn_id: str, ip: str, results: Mapping[str, list[float]]
                   ) -> TunnelMetrics:  # fmt: skip
    state = results.get(f"tunnelstate{index}") or []
    return TunnelMetrics(
        vpn_id=vpn_id, outside_ip=ip, state=state[0] if state else None,
        bytes_in=sum(results.get(f"tunneldatain{index}", [])),
        bytes_out=sum(results.get(f"tunneldataout{index}", [])),
    )  # fmt: skip
