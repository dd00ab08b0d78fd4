"""A provider gateway becomes usable by another account only through an accepted RAM share;
customer attachments wait for the owner's acceptance unless auto-accept is on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from moto.core.utils import utcnow

from linkplane.localcloud.ec2 import model
from tests.localcloud.conftest import CUSTOMER, OTHER, PROVIDER, Cloud
from tests.localcloud.test_ec2_support import (
    accepted_attachment,
    attach,
    attachment,
    client,
    error_code,
    make_tgw,
    make_vpc,
    share,
    shared_world,
)


def test_gateway_is_invisible_and_unusable_before_the_share_is_accepted(cloud: Cloud) -> None:
    tgw = make_tgw(cloud)
    customer = client(cloud, "ec2", CUSTOMER)
    vpc = make_vpc(cloud, CUSTOMER)
    assert customer.describe_transit_gateways()["TransitGateways"] == []
    with pytest.raises(ClientError) as exc:
        attach(cloud, CUSTOMER, tgw["TransitGatewayId"], vpc)
    assert error_code(exc) == "InvalidTransitGatewayID.NotFound"

    share(cloud, tgw["TransitGatewayArn"])
    (seen,) = customer.describe_transit_gateways()["TransitGateways"]
    assert seen["TransitGatewayId"] == tgw["TransitGatewayId"]
    assert seen["OwnerId"] == PROVIDER
    assert attach(cloud, CUSTOMER, tgw["TransitGatewayId"], vpc)["VpcOwnerId"] == CUSTOMER
    # A third account still sees nothing.
    assert client(cloud, "ec2", OTHER).describe_transit_gateways()["TransitGateways"] == []


def test_describe_by_id_of_an_unshared_gateway_is_not_found(cloud: Cloud) -> None:
    tgw = make_tgw(cloud)
    with pytest.raises(ClientError) as exc:
        client(cloud, "ec2", CUSTOMER).describe_transit_gateways(
            TransitGatewayIds=[tgw["TransitGatewayId"]]
        )
    assert error_code(exc) == "InvalidTransitGatewayID.NotFound"


def test_customer_attachment_waits_for_acceptance_on_both_sides(cloud: Cloud) -> None:
    world = shared_world(cloud)
    created = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    assert created["State"] == "pendingAcceptance"
    attachment_id = created["TransitGatewayAttachmentId"]
    for account in (PROVIDER, CUSTOMER):
        seen = attachment(cloud, account, attachment_id)
        assert seen["State"] == "pendingAcceptance"
        assert seen["ResourceOwnerId"] == CUSTOMER
        assert seen["TransitGatewayOwnerId"] == PROVIDER
        assert seen["ResourceType"] == "vpc" and seen["ResourceId"] == world.vpc.id
        (vpc_view,) = client(cloud, "ec2", account).describe_transit_gateway_vpc_attachments(
            TransitGatewayAttachmentIds=[attachment_id]
        )["TransitGatewayVpcAttachments"]
        assert vpc_view["State"] == "pendingAcceptance"
        assert vpc_view["VpcOwnerId"] == CUSTOMER


def test_owner_accepts_pending_then_available(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    provider = client(cloud, "ec2", PROVIDER)
    accepted = provider.accept_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id
    )["TransitGatewayVpcAttachment"]
    assert accepted["State"] == "pending"
    assert attachment(cloud, PROVIDER, attachment_id)["State"] == "available"
    assert attachment(cloud, CUSTOMER, attachment_id)["State"] == "available"
    with pytest.raises(ClientError) as exc:
        provider.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    assert error_code(exc) == "IncorrectState"


def test_only_the_owner_accepts(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    with pytest.raises(ClientError) as exc:
        client(cloud, "ec2", CUSTOMER).accept_transit_gateway_vpc_attachment(
            TransitGatewayAttachmentId=attachment_id
        )
    assert error_code(exc) == "UnauthorizedOperation"


def test_owner_rejects_and_rejected_stays_visible(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    provider = client(cloud, "ec2", PROVIDER)
    rejected = provider.reject_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id
    )["TransitGatewayVpcAttachment"]
    assert rejected["State"] == "rejecting"
    for account in (PROVIDER, CUSTOMER):
        assert attachment(cloud, account, attachment_id)["State"] == "rejected"
    with pytest.raises(ClientError) as exc:
        provider.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=attachment_id)
    assert error_code(exc) == "IncorrectState"
    # A rejected attachment does not block a new request for the same VPC.
    assert attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["State"] == "pendingAcceptance"


def test_deleted_attachment_stays_visible_as_deleted(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attachment_id = accepted_attachment(cloud, world)
    deleted = client(cloud, "ec2", CUSTOMER).delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id
    )["TransitGatewayVpcAttachment"]
    assert deleted["State"] == "deleting"
    for account in (PROVIDER, CUSTOMER):
        assert attachment(cloud, account, attachment_id)["State"] == "deleted"


def test_deleted_attachment_disappears_after_the_retention_window(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = shared_world(cloud)
    attachment_id = accepted_attachment(cloud, world)
    client(cloud, "ec2", PROVIDER).delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=attachment_id
    )
    later = utcnow() + model.RETENTION + timedelta(seconds=1)
    monkeypatch.setattr(model, "utcnow", lambda: later)
    listed = client(cloud, "ec2", CUSTOMER).describe_transit_gateway_attachments()
    assert listed["TransitGatewayAttachments"] == []


def test_auto_accept_goes_straight_to_available(cloud: Cloud) -> None:
    world = shared_world(cloud, auto_accept=True)
    created = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    assert created["State"] == "pending"
    seen = attachment(cloud, PROVIDER, created["TransitGatewayAttachmentId"])
    assert seen["State"] == "available"


def test_owner_attachment_needs_no_acceptance(cloud: Cloud) -> None:
    tgw = make_tgw(cloud)
    core = make_vpc(cloud, PROVIDER, "10.255.0.0/16")
    created = attach(cloud, PROVIDER, tgw["TransitGatewayId"], core)
    seen = attachment(cloud, PROVIDER, created["TransitGatewayAttachmentId"])
    assert seen["State"] == "available"
    assert seen["ResourceOwnerId"] == PROVIDER == seen["TransitGatewayOwnerId"]


def test_duplicate_attachment_of_the_same_vpc_fails(cloud: Cloud) -> None:
    world = shared_world(cloud)
    attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    with pytest.raises(ClientError) as exc:
        attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    assert error_code(exc) == "DuplicateTransitGatewayAttachment"
