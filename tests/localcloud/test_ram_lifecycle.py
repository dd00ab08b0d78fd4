"""Invitation expiry, clientToken idempotency, and associating/disassociating after creation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from linkplane.localcloud import ram_state
from linkplane.localcloud.sharing import is_shared_with
from tests.localcloud.conftest import CUSTOMER, OTHER, PROVIDER, Cloud
from tests.localcloud.test_ram_sharing import (
    TGW,
    associations,
    error_code,
    invitations,
    share_tgw,
    the_invitation,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    fake = FakeClock()
    ram_state.set_clock(fake)
    return fake


def test_invitation_expires_after_seven_days(cloud: Cloud, clock: FakeClock) -> None:
    share_tgw(cloud, CUSTOMER)
    arn = the_invitation(cloud)
    clock.advance(days=7, seconds=-1)
    assert invitations(cloud, CUSTOMER)[0]["status"] == "PENDING"
    clock.advance(seconds=1)
    assert invitations(cloud, CUSTOMER)[0]["status"] == "EXPIRED"
    with pytest.raises(ClientError) as exc:
        cloud.client("ram", CUSTOMER).accept_resource_share_invitation(
            resourceShareInvitationArn=arn
        )
    assert error_code(exc) == "ResourceShareInvitationExpiredException"
    (principal,) = associations(cloud, "PRINCIPAL")
    assert principal["status"] == "DISASSOCIATED"
    assert not is_shared_with(TGW, CUSTOMER)


def test_ttl_is_configurable(
    cloud: Cloud, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ram_state.TTL_ENV, "60")
    share_tgw(cloud, CUSTOMER)
    ram_state.set_invitation_ttl(5)
    share_tgw(cloud, OTHER)
    clock.advance(seconds=5)
    assert invitations(cloud, OTHER)[0]["status"] == "EXPIRED"
    assert invitations(cloud, CUSTOMER)[0]["status"] == "PENDING"
    clock.advance(seconds=55)
    assert invitations(cloud, CUSTOMER)[0]["status"] == "EXPIRED"


def test_reassociating_after_expiry_sends_a_fresh_invitation(
    cloud: Cloud, clock: FakeClock
) -> None:
    share = share_tgw(cloud, CUSTOMER)
    clock.advance(days=8)
    provider = cloud.client("ram", PROVIDER)
    provider.associate_resource_share(resourceShareArn=share, principals=[CUSTOMER])
    statuses = sorted(i["status"] for i in invitations(cloud, CUSTOMER))
    assert statuses == ["EXPIRED", "PENDING"]
    fresh = next(i for i in invitations(cloud, CUSTOMER) if i["status"] == "PENDING")[
        "resourceShareInvitationArn"
    ]
    cloud.client("ram", CUSTOMER).accept_resource_share_invitation(resourceShareInvitationArn=fresh)
    assert is_shared_with(TGW, CUSTOMER)


def test_create_is_idempotent_per_client_token(cloud: Cloud) -> None:
    first = share_tgw(cloud, CUSTOMER, clientToken="token-1")
    again = share_tgw(cloud, CUSTOMER, clientToken="token-1")
    assert again == first
    provider = cloud.client("ram", PROVIDER)
    assert len(provider.get_resource_shares(resourceOwner="SELF")["resourceShares"]) == 1
    assert len(invitations(cloud, CUSTOMER)) == 1
    with pytest.raises(ClientError) as exc:
        share_tgw(cloud, OTHER, clientToken="token-1")
    assert error_code(exc) == "IdempotentParameterMismatchException"
    assert share_tgw(cloud, CUSTOMER, clientToken="token-2") != first


def test_associate_and_disassociate_principals(cloud: Cloud) -> None:
    share = share_tgw(cloud)
    provider = cloud.client("ram", PROVIDER)
    done = provider.associate_resource_share(
        resourceShareArn=share, principals=[CUSTOMER], clientToken="a-1"
    )
    assert [(a["associatedEntity"], a["status"]) for a in done["resourceShareAssociations"]] == [
        (CUSTOMER, "ASSOCIATING")
    ]
    provider.associate_resource_share(
        resourceShareArn=share, principals=[CUSTOMER], clientToken="a-1"
    )
    assert len(invitations(cloud, CUSTOMER)) == 1
    with pytest.raises(ClientError) as exc:
        provider.associate_resource_share(
            resourceShareArn=share, principals=[OTHER], clientToken="a-1"
        )
    assert error_code(exc) == "IdempotentParameterMismatchException"
    cloud.client("ram", CUSTOMER).accept_resource_share_invitation(
        resourceShareInvitationArn=the_invitation(cloud)
    )
    assert is_shared_with(TGW, CUSTOMER)

    gone = provider.disassociate_resource_share(
        resourceShareArn=share, principals=[CUSTOMER], clientToken="d-1"
    )["resourceShareAssociations"]
    assert [(a["associatedEntity"], a["status"]) for a in gone] == [(CUSTOMER, "DISASSOCIATED")]
    again = provider.disassociate_resource_share(
        resourceShareArn=share, principals=[CUSTOMER], clientToken="d-1"
    )["resourceShareAssociations"]
    assert again == gone
    assert not is_shared_with(TGW, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    assert customer.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []
    (principal,) = associations(cloud, "PRINCIPAL")
    assert principal["status"] == "DISASSOCIATED"
    with pytest.raises(ClientError) as exc:
        provider.disassociate_resource_share(resourceShareArn=share, principals=[CUSTOMER])
    assert error_code(exc) == "UnknownResourceException"


def test_disassociating_the_resource_hides_it(cloud: Cloud) -> None:
    share = share_tgw(cloud, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    customer.accept_resource_share_invitation(resourceShareInvitationArn=the_invitation(cloud))
    provider = cloud.client("ram", PROVIDER)
    provider.disassociate_resource_share(resourceShareArn=share, resourceArns=[TGW])
    assert customer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    assert not is_shared_with(TGW, CUSTOMER)
    provider.associate_resource_share(resourceShareArn=share, resourceArns=[TGW])
    assert [
        r["arn"] for r in customer.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    ] == [TGW]
    assert is_shared_with(TGW, CUSTOMER)


def test_pending_invitation_of_a_removed_principal_is_withdrawn(cloud: Cloud) -> None:
    share = share_tgw(cloud, CUSTOMER)
    arn = the_invitation(cloud)
    cloud.client("ram", PROVIDER).disassociate_resource_share(
        resourceShareArn=share, principals=[CUSTOMER]
    )
    assert invitations(cloud, CUSTOMER) == []
    with pytest.raises(ClientError) as exc:
        cloud.client("ram", CUSTOMER).accept_resource_share_invitation(
            resourceShareInvitationArn=arn
        )
    assert error_code(exc) == "ResourceShareInvitationArnNotFoundException"


def test_accept_is_idempotent_per_client_token(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    customer = cloud.client("ram", CUSTOMER)
    arn = the_invitation(cloud)
    first = customer.accept_resource_share_invitation(
        resourceShareInvitationArn=arn, clientToken="c"
    )
    again = customer.accept_resource_share_invitation(
        resourceShareInvitationArn=arn, clientToken="c"
    )
    assert again["resourceShareInvitation"] == first["resourceShareInvitation"]
    assert again["clientToken"] == "c"


def test_share_tags_are_kept_and_filter_the_listing(cloud: Cloud) -> None:
    """AWS returns a share's tags and filters by them (moto 5.2.5 dropped both)."""
    tagged = share_tgw(cloud, CUSTOMER, tags=[{"key": "linkplane:installation", "value": "a1"}])
    other = share_tgw(cloud, OTHER, tags=[{"key": "linkplane:installation", "value": "b2"}])
    share_tgw(cloud)  # untagged
    ram = cloud.client("ram", PROVIDER)

    def listed(**filters: Any) -> dict[str, list[dict[str, str]]]:
        found = ram.get_resource_shares(resourceOwner="SELF", **filters)["resourceShares"]
        return {s["resourceShareArn"]: s.get("tags", []) for s in found}

    assert listed()[tagged] == [{"key": "linkplane:installation", "value": "a1"}]
    assert set(listed(tagFilters=[{"tagKey": "linkplane:installation"}])) == {tagged, other}
    only = [{"tagKey": "linkplane:installation", "tagValues": ["b2"]}]
    assert set(listed(tagFilters=only)) == {other}
