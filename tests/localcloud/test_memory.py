"""The embedded cloud does not load moto's default AMI catalogue into each account.

moto builds ~4 MiB of AMI objects in every account's EC2 backend unless
``MOTO_EC2_LOAD_DEFAULT_AMIS=false``; with thousands of customer accounts that was gigabytes
(bench/bench_cloud_soak.py). linkplane never uses AMIs, so every entry point turns them off.
Each test removes the variable first, so it proves the entry point sets it, not the shell.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import boto3
import pytest

from linkplane.localcloud import server
from linkplane.localcloud.accounts import session_for
from linkplane.localcloud.install import install
from tests.localcloud.conftest import REGION

DEFAULT_ACCOUNT = "123456789012"  # moto's account for plain credentials


@pytest.fixture(autouse=True)
def _no_amis_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_EC2_LOAD_DEFAULT_AMIS", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_in_process_server_has_no_default_amis() -> None:
    running = server.start()
    try:
        session = session_for("444400000001", region=REGION, endpoint_url=running.endpoint_url)
        ec2 = session.client("ec2", endpoint_url=running.endpoint_url)
        assert ec2.describe_images()["Images"] == []
        assert ec2.describe_vpcs()["Vpcs"]  # the account's EC2 backend exists (default VPC)
    finally:
        running.stop()


def test_mocked_cloud_has_no_default_amis() -> None:
    from moto import mock_aws

    install()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        assert ec2.describe_images()["Images"] == []


def test_an_explicit_choice_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone who needs the catalogue (running instances in the embedded cloud) can have it."""
    from moto import mock_aws

    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "true")
    install()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        assert ec2.describe_images()["Images"]


def _backend(account: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][REGION]


def test_deleted_vpc_and_subnet_are_not_kept_in_memory() -> None:
    """moto kept every model object it ever made (for its dashboard); deleting freed nothing."""
    from moto import mock_aws

    install()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        backend = _backend(DEFAULT_ACCOUNT)
        refs = [weakref.ref(backend.vpcs[vpc]), weakref.ref(backend.get_subnet(subnet))]
        ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)
        gc.collect()
        assert [r() for r in refs] == [None, None]


def test_deleting_a_vpc_deletes_its_default_network_acl() -> None:
    """AWS deletes the default network ACL with its VPC, and a subnet's ACL association with
    the subnet; moto kept both (with four entries each) forever."""
    from moto import mock_aws

    install()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
        (acl,) = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "NetworkAcls"
        ]
        assert [a["SubnetId"] for a in acl["Associations"]] == [subnet]
        ec2.delete_subnet(SubnetId=subnet)
        (acl,) = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "NetworkAcls"
        ]
        assert acl["Associations"] == []
        ec2.delete_vpc(VpcId=vpc)
        left = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])
        assert left["NetworkAcls"] == []
