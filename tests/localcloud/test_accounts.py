from __future__ import annotations

from tests.localcloud.conftest import CUSTOMER, PROVIDER, Cloud


def test_assume_role_reaches_the_named_account(cloud: Cloud) -> None:
    for account in (PROVIDER, CUSTOMER):
        ident = cloud.client("sts", account).get_caller_identity()
        assert ident["Account"] == account


def test_accounts_have_separate_ec2_state(cloud: Cloud) -> None:
    vpc = cloud.client("ec2", PROVIDER).create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]
    theirs = cloud.client("ec2", CUSTOMER).describe_vpcs()["Vpcs"]
    assert vpc["VpcId"] not in {v["VpcId"] for v in theirs}
    assert vpc["OwnerId"] == PROVIDER
