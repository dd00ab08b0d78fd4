"""Acting as a customer AWS account: plain boto3 against the public AWS API only.

This is what a customer of the provider does by hand or in their own tooling: see and accept
the RAM invitation for the shared Transit Gateway, create a VPC, attach it to the TGW. It
deliberately does not use linkplane's cloud adapter, so demos and tests exercise the
customer's side exactly as AWS documents it. Works against the embedded cloud (an account
reached by STS assume-role) and against real AWS (the caller's own credentials).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from linkplane.cloud.translate import translate
from linkplane.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ram import RAMClient


@dataclass(frozen=True)
class Invitation:
    arn: str
    share_name: str
    sender: str
    status: str
    sent: str


@dataclass(frozen=True)
class CreatedVpc:
    vpc_id: str
    cidr: str
    subnets: list[dict[str, str]]  # {"id", "cidr", "az"}


@contextmanager
def _aws(operation: str) -> Iterator[None]:
    """The customer helper's one error boundary: botocore errors as linkplane errors."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, operation) from exc


class Customer:
    """One customer account in one region."""

    def __init__(self, session: boto3.Session, *, endpoint_url: str | None) -> None:
        self._session = session
        self._endpoint = endpoint_url or None

    @classmethod
    def assume(cls, account_id: str, *, region: str, endpoint_url: str) -> Customer:
        """The account reached by STS assume-role, as in a multi-account AWS setup."""
        from linkplane.localcloud.accounts import session_for

        with _aws("AssumeRole"):
            session = session_for(account_id, region=region, endpoint_url=endpoint_url)
        return cls(session, endpoint_url=endpoint_url)

    @property
    def ram(self) -> RAMClient:
        client: RAMClient = self._session.client("ram", endpoint_url=self._endpoint)
        return client

    @property
    def ec2(self) -> EC2Client:
        client: EC2Client = self._session.client("ec2", endpoint_url=self._endpoint)
        return client

    def account_id(self) -> str:
        with _aws("GetCallerIdentity"):
            sts = self._session.client("sts", endpoint_url=self._endpoint)
            return str(sts.get_caller_identity()["Account"])

    # --- RAM invitations ---------------------------------------------------------------------
    def invitations(self) -> list[Invitation]:
        found: list[Invitation] = []
        with _aws("GetResourceShareInvitations"):
            for page in self.ram.get_paginator("get_resource_share_invitations").paginate():
                found.extend(_invitation(i) for i in page.get("resourceShareInvitations", []))
        return found

    def _pick(self, arn: str | None) -> str:
        if arn:
            return arn
        pending = [i.arn for i in self.invitations() if i.status == "PENDING"]
        if len(pending) == 1:
            return pending[0]
        if not pending:
            raise NotFound("no pending invitation; ask the provider to share its TGW first")
        raise InvalidInput(
            f"{len(pending)} pending invitations; name one of: {', '.join(pending)}",
            field="invitation",
        )

    def accept(self, arn: str | None = None) -> Invitation:
        target = self._pick(arn)
        with _aws("AcceptResourceShareInvitation"):
            out = self.ram.accept_resource_share_invitation(resourceShareInvitationArn=target)
        return _invitation(out["resourceShareInvitation"])

    def reject(self, arn: str | None = None) -> Invitation:
        target = self._pick(arn)
        with _aws("RejectResourceShareInvitation"):
            out = self.ram.reject_resource_share_invitation(resourceShareInvitationArn=target)
        return _invitation(out["resourceShareInvitation"])

    # --- VPC and attachment ------------------------------------------------------------------
    def create_vpc(self, *, cidr: str, azs: int = 2) -> CreatedVpc:
        """A VPC with one subnet per AZ (the VPC split into equal parts, in the first AZs)."""
        subnet_cidrs = _split(cidr, azs)
        with _aws("CreateVpc"):
            zones = self.ec2.describe_availability_zones()["AvailabilityZones"]
            names = sorted(z["ZoneName"] for z in zones if "ZoneName" in z)[:azs]
            if len(names) < azs:
                raise InvalidInput(f"the region has only {len(names)} AZs", field="azs")
            vpc_id = self.ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
            subnets = []
            for az, sub in zip(names, subnet_cidrs, strict=True):
                made = self.ec2.create_subnet(VpcId=vpc_id, CidrBlock=sub, AvailabilityZone=az)
                subnets.append({"id": made["Subnet"]["SubnetId"], "cidr": sub, "az": az})
        return CreatedVpc(vpc_id=vpc_id, cidr=cidr, subnets=subnets)

    def create_attachment(
        self, *, tgw_id: str, vpc_id: str, subnet_ids: list[str] | None = None
    ) -> dict[str, str]:
        with _aws("CreateTransitGatewayVpcAttachment"):
            subnets = subnet_ids or self._one_subnet_per_az(vpc_id)
            out = self.ec2.create_transit_gateway_vpc_attachment(
                TransitGatewayId=tgw_id, VpcId=vpc_id, SubnetIds=subnets
            )["TransitGatewayVpcAttachment"]
        return {
            "id": out.get("TransitGatewayAttachmentId", ""),
            "tgw_id": out.get("TransitGatewayId", ""),
            "vpc_id": out.get("VpcId", ""),
            "state": out.get("State", ""),
        }

    def _one_subnet_per_az(self, vpc_id: str) -> list[str]:
        subnets = self.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        per_az: dict[str, str] = {}
        for s in sorted(subnets["Subnets"], key=lambda s: s.get("SubnetId", "")):
            per_az.setdefault(s.get("AvailabilityZone", ""), s.get("SubnetId", ""))
        if not per_az:
            raise InvalidInput(f"VPC {vpc_id} has no subnets; pass --subnet-id", field="vpc_id")
        return [per_az[az] for az in sorted(per_az)]

    def delete_attachment(self, attachment_id: str) -> str:
        with _aws("DeleteTransitGatewayVpcAttachment"):
            out = self.ec2.delete_transit_gateway_vpc_attachment(
                TransitGatewayAttachmentId=attachment_id
            )
        return str(out["TransitGatewayVpcAttachment"].get("State", ""))

    def attachments(self) -> list[dict[str, str]]:
        """This account's TGW attachments (the VPCs it attached), paginated."""
        rows: list[dict[str, str]] = []
        with _aws("DescribeTransitGatewayAttachments"):
            pages = self.ec2.get_paginator("describe_transit_gateway_attachments").paginate()
            for page in pages:
                rows.extend(_attachment_row(a) for a in page.get("TransitGatewayAttachments", []))
        return rows


def _split(cidr: str, parts: int) -> list[str]:
    if parts < 1 or parts > 16:
        raise InvalidInput("--azs must be between 1 and 16", field="azs")
    try:
        net = ipaddress.IPv4Network(cidr, strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{cidr!r} is not a valid IPv4 CIDR: {exc}", field="cidr") from exc
    extra = (parts - 1).bit_length()
    if net.prefixlen + extra > 28:
        raise InvalidInput(f"{cidr} is too small for {parts} subnets (/28 minimum)", field="cidr")
    return [str(s) for s in list(net.subnets(prefixlen_diff=extra))[:parts]]


def _invitation(item: Any) -> Invitation:
    return Invitation(
        arn=str(item.get("resourceShareInvitationArn", "")),
        share_name=str(item.get("resourceShareName", "")),
        sender=str(item.get("senderAccountId", "")),
        status=str(item.get("status", "")),
        sent=str(item.get("invitationTimestamp", "")),
    )


def _attachment_row(item: Any) -> dict[str, str]:
    assoc = item.get("Association") or {}
    return {
        "id": str(item.get("TransitGatewayAttachmentId", "")),
        "tgw_id": str(item.get("TransitGatewayId", "")),
        "tgw_owner": str(item.get("TransitGatewayOwnerId", "")),
        "resource_id": str(item.get("ResourceId", "")),
        "state": str(item.get("State", "")),
        "route_table": str(assoc.get("TransitGatewayRouteTableId", "")),
    }
