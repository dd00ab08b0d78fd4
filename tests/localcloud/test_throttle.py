"""EC2-style API throttling and fault injection, through boto3 with retries off."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from linkplane.localcloud import throttle
from linkplane.localcloud.throttle import Rate
from tests.localcloud.conftest import CUSTOMER, PROVIDER, Cloud
from tests.localcloud.test_ram_sharing import share_tgw, the_invitation

# Not {"max_attempts": 1}: in a Config that counts retries, so botocore would try twice.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    fake = FakeClock()
    throttle.configure(clock=fake)
    return fake


def ec2(cloud: Cloud, account: str = PROVIDER) -> Any:
    return cloud.client("ec2", account, config=NO_RETRIES)


def refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    response: dict[str, Any] = exc.value.response
    return response


def test_off_by_default(cloud: Cloud) -> None:
    client = ec2(cloud)
    for _ in range(120):
        client.describe_vpcs()


def test_burst_of_101_reads_refuses_the_last(cloud: Cloud, clock: FakeClock) -> None:
    client = ec2(cloud)
    throttle.configure(enabled=True)
    for _ in range(100):
        client.describe_vpcs()
    response = refused(client.describe_vpcs)
    assert response["Error"]["Code"] == "RequestLimitExceeded"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_buckets_are_per_account_and_per_class(cloud: Cloud, clock: FakeClock) -> None:
    provider, customer = ec2(cloud), ec2(cloud, CUSTOMER)
    throttle.configure(enabled=True, non_mutating=Rate(2, 1), mutating=Rate(1, 1))
    provider.describe_vpcs()
    provider.describe_vpcs()
    assert refused(provider.describe_vpcs)["Error"]["Code"] == "RequestLimitExceeded"
    customer.describe_vpcs()  # another account's bucket is full
    provider.create_vpc(CidrBlock="10.0.0.0/16")  # the mutating bucket is separate
    assert refused(provider.create_vpc, CidrBlock="10.1.0.0/16")["Error"]["Code"] == (
        "RequestLimitExceeded"
    )


def test_buckets_refill_at_their_rate(cloud: Cloud, clock: FakeClock) -> None:
    client = ec2(cloud)
    throttle.configure(enabled=True, non_mutating=Rate(100, 20))
    for _ in range(100):
        client.describe_vpcs()
    refused(client.describe_vpcs)
    clock.now += 0.1  # 20/s: two tokens
    client.describe_vpcs()
    client.describe_vpcs()
    refused(client.describe_vpcs)
    clock.now += 60  # never more than the bucket holds
    for _ in range(100):
        client.describe_vpcs()
    refused(client.describe_vpcs)


def test_ram_is_throttled_with_its_own_error(cloud: Cloud, clock: FakeClock) -> None:
    ram = cloud.client("ram", PROVIDER, config=NO_RETRIES)
    throttle.configure(enabled=True, non_mutating=Rate(1, 1))
    ram.get_resource_shares(resourceOwner="SELF")
    response = refused(ram.get_resource_shares, resourceOwner="SELF")
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_injected_fault_fails_the_next_n_calls(cloud: Cloud) -> None:
    share_tgw(cloud, CUSTOMER)
    arn = the_invitation(cloud)
    customer = cloud.client("ram", CUSTOMER, config=NO_RETRIES)
    throttle.inject_fault("AcceptResourceShareInvitation", "ServiceUnavailableException", 503, 2)
    for _ in range(2):
        response = refused(
            customer.accept_resource_share_invitation, resourceShareInvitationArn=arn
        )
        assert response["Error"]["Code"] == "ServiceUnavailableException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 503
    accepted = customer.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    assert accepted["resourceShareInvitation"]["status"] == "ACCEPTED"


def test_injected_ec2_fault_can_target_one_account(cloud: Cloud) -> None:
    provider, customer = ec2(cloud), ec2(cloud, CUSTOMER)
    throttle.inject_fault("DescribeVpcs", "InternalError", 500, account_id=CUSTOMER)
    provider.describe_vpcs()
    response = refused(customer.describe_vpcs)
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InternalError",
        500,
    )
    customer.describe_vpcs()


def test_action_classes() -> None:
    assert throttle.action_class("DescribeTransitGateways") == throttle.NON_MUTATING
    assert throttle.action_class("SearchTransitGatewayRoutes") == throttle.NON_MUTATING
    assert throttle.action_class("GetResourceShareInvitations") == throttle.NON_MUTATING
    assert throttle.action_class("CreateTransitGatewayRoute") == throttle.MUTATING
    assert throttle.action_class("AcceptResourceShareInvitation") == throttle.MUTATING
