"""The embedded cloud does not load moto's default AMI catalogue into each account.

moto builds ~4 MiB of AMI objects in every account's EC2 backend unless
``MOTO_EC2_LOAD_DEFAULT_AMIS=false``; with thousands of customer accounts that was gigabytes
(bench/bench_cloud_soak.py). linkplane never uses AMIs, so every entry point turns them off.
Each test removes the variable first, so it proves the entry point sets it, not the shell.
"""

from __future__ import annotations

import boto3
import pytest

from linkplane.localcloud import server
from linkplane.localcloud.accounts import session_for
from linkplane.localcloud.install import install
from tests.localcloud.conftest import REGION


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
