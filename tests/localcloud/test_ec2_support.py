"""Helpers for the EC2 Transit Gateway tests: a provider gateway, RAM sharing done the way a
customer does it, customer VPCs and attachments. No tests here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import CUSTOMER, PROVIDER, REGION, Cloud


def client(cloud: Cloud, service: str, account: str, region: str = REGION) -> Any:
    """``cloud.client`` cached per test: building a boto3 client costs ~0.2 s."""
    cache: dict[tuple[str, str, str], Any] = cloud.__dict__.setdefault("_ec2_test_clients", {})
    key = (service, account, region)
    if key not in cache:
        cache[key] = cloud.client(service, account, region)
    return cache[key]


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def options(*, auto_accept: bool = False, defaults: bool = False) -> dict[str, str]:
    flag = {True: "enable", False: "disable"}
    return {
        "AutoAcceptSharedAttachments": flag[auto_accept],
        "DefaultRouteTableAssociation": flag[defaults],
        "DefaultRouteTablePropagation": flag[defaults],
    }


def make_tgw(cloud: Cloud, region: str = REGION, account: str = PROVIDER, **opts: bool) -> Any:
    ec2 = client(cloud, "ec2", account, region)
    return ec2.create_transit_gateway(Description="core", Options=options(**opts))["TransitGateway"]


def share(cloud: Cloud, tgw_arn: str, account: str = CUSTOMER) -> None:
    """Provider shares the gateway; the customer accepts the invitation."""
    client(cloud, "ram", PROVIDER).create_resource_share(
        name="tgw", resourceArns=[tgw_arn], principals=[account], allowExternalPrincipals=True
    )
    ram = client(cloud, "ram", account)
    (invitation,) = ram.get_resource_share_invitations()["resourceShareInvitations"]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )


@dataclass
class Vpc:
    id: str
    subnets: list[str]


def make_vpc(cloud: Cloud, account: str, cidr: str = "10.1.0.0/16") -> Vpc:
    ec2 = client(cloud, "ec2", account)
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = []
    for i, az in enumerate("ab"):
        subnet = ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=f"{base}.{i}.0/24", AvailabilityZone=f"{REGION}{az}"
        )
        subnets.append(subnet["Subnet"]["SubnetId"])
    return Vpc(vpc_id, subnets)


def attach(cloud: Cloud, account: str, tgw_id: str, vpc: Vpc, **extra: Any) -> Any:
    ec2 = client(cloud, "ec2", account)
    return ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=vpc.id, SubnetIds=vpc.subnets, **extra
    )["TransitGatewayVpcAttachment"]


def attachment(cloud: Cloud, account: str, attachment_id: str) -> Any:
    ec2 = client(cloud, "ec2", account)
    found = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[attachment_id])
    (only,) = found["TransitGatewayAttachments"]
    return only


@dataclass
class SharedWorld:
    """A provider gateway shared with and accepted by the customer, and a customer VPC."""

    tgw: Any
    vpc: Vpc

    @property
    def tgw_id(self) -> str:
        return str(self.tgw["TransitGatewayId"])


def shared_world(cloud: Cloud, **opts: bool) -> SharedWorld:
    tgw = make_tgw(cloud, **opts)
    share(cloud, tgw["TransitGatewayArn"])
    return SharedWorld(tgw, make_vpc(cloud, CUSTOMER))


def accepted_attachment(cloud: Cloud, world: SharedWorld) -> str:
    created = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    attachment_id = str(created["TransitGatewayAttachmentId"])
    client(cloud, "ec2", PROVIDER).accept_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id
    )
    return attachment_id
