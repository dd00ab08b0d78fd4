"""The cross-account TGW sharing flow through boto3, in-process and over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from linkplane.localcloud.sharing import is_shared_with, shared_resource_arns
from tests.localcloud.conftest import CUSTOMER, OTHER, PROVIDER, REGION, Cloud

TGW = f"arn:aws:ec2:{REGION}:{PROVIDER}:transit-gateway/tgw-0123456789abcdef0"


def share_tgw(cloud: Cloud, *principals: str, **extra: Any) -> str:
    ram = cloud.client("ram", PROVIDER)
    created = ram.create_resource_share(
        name="linkplane-tgw",
        resourceArns=[TGW],
        principals=list(principals),
        allowExternalPrincipals=True,
        **extra,
    )
    return str(created["resourceShare"]["resourceShareArn"])


def invitations(cloud: Cloud, account: str, **filters: Any) -> list[dict[str, Any]]:
    ram = cloud.client("ram", account)
    found: list[dict[str, Any]] = ram.get_resource_share_invitations(**filters)[
        "resourceShareInvitations"
    ]
    return found


def associations(cloud: Cloud, kind: str, **filters: Any) -> list[dict[str, Any]]:
    ram = cloud.client("ram", PROVIDER)
    found: list[dict[str, Any]] = ram.get_resource_share_associations(
        associationType=kind, **filters
    )["resourceShareAssociations"]
    return found


def the_invitation(cloud: Cloud, account: str = CUSTOMER) -> str:
    (invitation,) = invitations(cloud, account)
    return str(invitation["resourceShareInvitationArn"])


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_external_principal_gets_a_pending_invitation(cloud: Cloud) -> None:
    share = share_tgw(cloud, CUSTOMER)
    (invitation,) = invitations(cloud, CUSTOMER)
    assert invitation["status"] == "PENDING"
    assert invitation["resourceShareArn"] == share
    assert invitation["senderAccountId"] == PROVIDER
    assert invitation["receiverAccountId"] == CUSTOMER
    assert invitations(cloud, OTHER) == []
    (principal,) = associations(cloud, "PRINCIPAL")
    assert (principal["associatedEntity"], principal["status"]) == (CUSTOMER, "ASSOCIATING")
    assert principal["external"] is True
    (resource,) = associations(cloud, "RESOURCE")
    assert (resource["associatedEntity"], resource["status"]) == (TGW, "ASSOCIATED")
    assert not is_shared_with(TGW, CUSTOMER)


def test_invitation_filters(cloud: Cloud) -> None:
    first = share_tgw(cloud, CUSTOMER)
    second = share_tgw(cloud, CUSTOMER)
    assert len(invitations(cloud, CUSTOMER)) == 2
    (only,) = invitations(cloud, CUSTOMER, resourceShareArns=[second])
    assert only["resourceShareArn"] == second
    arn = only["resourceShareInvitationArn"]
    (by_arn,) = invitations(cloud, CUSTOMER, resourceShareInvitationArns=[arn])
    assert by_arn["resourceShareArn"] == second
    assert (
        invitations(cloud, CUSTOMER, resourceShareArns=[first], resourceShareInvitationArns=[arn])
        == []
    )


def test_accept_gives_access(cloud: Cloud) -> None:
    share = share_tgw(cloud, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    accepted = customer.accept_resource_share_invitation(
        resourceShareInvitationArn=the_invitation(cloud)
    )["resourceShareInvitation"]
    assert accepted["status"] == "ACCEPTED"
    assert invitations(cloud, CUSTOMER)[0]["status"] == "ACCEPTED"
    (principal,) = associations(cloud, "PRINCIPAL")
    assert principal["status"] == "ASSOCIATED"
    shares = customer.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    assert [s["resourceShareArn"] for s in shares] == [share]
    theirs = customer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert [(r["arn"], r["type"]) for r in theirs] == [(TGW, "ec2:TransitGateway")]
    mine = cloud.client("ram", PROVIDER).list_resources(resourceOwner="SELF")["resources"]
    assert [r["arn"] for r in mine] == [TGW]
    assert customer.list_resources(resourceOwner="SELF")["resources"] == []
    assert is_shared_with(TGW, CUSTOMER) and not is_shared_with(TGW, OTHER)
    assert shared_resource_arns(CUSTOMER, REGION) == {TGW}
    assert shared_resource_arns(CUSTOMER, "us-east-1") == set()


def test_accepting_twice_fails(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    arn = the_invitation(cloud)
    customer.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    with pytest.raises(ClientError) as exc:
        customer.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    assert error_code(exc) == "ResourceShareInvitationAlreadyAcceptedException"


def test_reject_denies_access(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    arn = the_invitation(cloud)
    rejected = customer.reject_resource_share_invitation(resourceShareInvitationArn=arn)
    assert rejected["resourceShareInvitation"]["status"] == "REJECTED"
    (principal,) = associations(cloud, "PRINCIPAL")
    assert principal["status"] == "DISASSOCIATED"
    with pytest.raises(ClientError) as exc:
        customer.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    assert error_code(exc) == "ResourceShareInvitationAlreadyRejectedException"
    assert customer.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert not is_shared_with(TGW, CUSTOMER)


def test_only_the_receiver_can_answer(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    arn = the_invitation(cloud)
    with pytest.raises(ClientError) as exc:
        cloud.client("ram", OTHER).accept_resource_share_invitation(resourceShareInvitationArn=arn)
    assert error_code(exc) == "ResourceShareInvitationArnNotFoundException"
    with pytest.raises(ClientError) as exc:
        cloud.client("ram", CUSTOMER).accept_resource_share_invitation(
            resourceShareInvitationArn="not-an-arn"
        )
    assert error_code(exc) == "MalformedArnException"


def test_association_status_filter_is_honoured(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    share_tgw(cloud, OTHER)
    cloud.client("ram", CUSTOMER).accept_resource_share_invitation(
        resourceShareInvitationArn=the_invitation(cloud)
    )
    associated = associations(cloud, "PRINCIPAL", associationStatus="ASSOCIATED")
    assert [a["associatedEntity"] for a in associated] == [CUSTOMER]
    pending = associations(cloud, "PRINCIPAL", associationStatus="ASSOCIATING")
    assert [a["associatedEntity"] for a in pending] == [OTHER]
    assert associations(cloud, "PRINCIPAL", associationStatus="DISASSOCIATED") == []
    assert associations(cloud, "RESOURCE", associationStatus="ASSOCIATING") == []
    assert [a["associatedEntity"] for a in associations(cloud, "PRINCIPAL", principal=OTHER)] == [
        OTHER
    ]


def test_delete_share_revokes_access(cloud: Cloud) -> None:
    share = share_tgw(cloud, CUSTOMER, OTHER)
    customer = cloud.client("ram", CUSTOMER)
    customer.accept_resource_share_invitation(resourceShareInvitationArn=the_invitation(cloud))
    pending = the_invitation(cloud, OTHER)
    provider = cloud.client("ram", PROVIDER)
    assert provider.delete_resource_share(resourceShareArn=share)["returnValue"] is True
    (mine,) = provider.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    assert mine["status"] == "DELETED"
    assert {a["status"] for a in associations(cloud, "PRINCIPAL")} == {"DISASSOCIATED"}
    assert {a["status"] for a in associations(cloud, "RESOURCE")} == {"DISASSOCIATED"}
    assert customer.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    assert customer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    assert provider.list_resources(resourceOwner="SELF")["resources"] == []
    assert not is_shared_with(TGW, CUSTOMER)
    # The other account's pending invitation is withdrawn with the share.
    assert invitations(cloud, OTHER) == []
    other = cloud.client("ram", OTHER)
    with pytest.raises(ClientError) as exc:
        other.accept_resource_share_invitation(resourceShareInvitationArn=pending)
    assert error_code(exc) == "ResourceShareInvitationArnNotFoundException"
    with pytest.raises(ClientError) as exc:
        provider.delete_resource_share(resourceShareArn=share)
    assert error_code(exc) == "InvalidStateTransitionException"


def test_invalid_input_is_a_client_error_and_stores_nothing(cloud: Cloud) -> None:
    provider = cloud.client("ram", PROVIDER)
    with pytest.raises(ClientError) as exc:
        provider.create_resource_share(
            name="bad", resourceArns=[TGW], principals=[CUSTOMER, "not-a-principal"]
        )
    assert error_code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        provider.create_resource_share(
            name="theirs", resourceArns=[TGW.replace(PROVIDER, OTHER)], principals=[CUSTOMER]
        )
    assert error_code(exc) == "UnknownResourceException"
    with pytest.raises(ClientError) as exc:
        provider.create_resource_share(
            name="closed", resourceArns=[TGW], principals=[CUSTOMER], allowExternalPrincipals=False
        )
    assert error_code(exc) == "OperationNotPermittedException"
    assert provider.get_resource_shares(resourceOwner="SELF")["resourceShares"] == []
    assert invitations(cloud, CUSTOMER) == []
