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


@pytest.mark.parametrize("cidr", ["10.0.0.0/29", "10.0.0.0/31", "10.0.0.7/32",
                                  "2001:db8::/125", "2001:db8::/127"])  # fmt: skip
def test_a_subnets_hosts_are_cidr_hosts_and_survive_pickling(cidr: str) -> None:
    """The iterator kept on a subnet yields what ``hosts()`` does, and a half-used one
    pickles (the embedded cloud's snapshot pickles every subnet) and resumes in place."""
    import pickle
    from ipaddress import ip_network

    from linkplane.localcloud.ec2.cleanup import Hosts

    net = ip_network(cidr)
    assert list(Hosts(net)) == list(net.hosts())
    hosts = Hosts(net)
    first = next(hosts)
    again = pickle.loads(pickle.dumps(hosts))
    assert [first, *again] == list(net.hosts())


def _inproc_only(cloud: Any) -> None:
    if cloud.mode != "inproc":
        pytest.skip("reads the in-process backends (the HTTP mode serves the same code)")


def test_a_deleted_attachment_is_freed_after_the_retention_window(
    cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS lists a deleted attachment for about two hours, then forgets it; moto kept it (in
    both accounts' backends) for ever, so breakout churn grew the cloud without end."""
    from datetime import timedelta

    from moto.core.utils import utcnow

    from linkplane.localcloud import retention
    from linkplane.localcloud.ec2 import model
    from tests.localcloud.conftest import CUSTOMER, PROVIDER
    from tests.localcloud.test_ec2_support import accepted_attachment, attach, client, shared_world

    _inproc_only(cloud)
    monkeypatch.setenv(retention.ENV, "60")
    world = shared_world(cloud)
    gone = accepted_attachment(cloud, world)
    client(cloud, "ec2", CUSTOMER).delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=gone)  # fmt: skip
    ref = weakref.ref(_backend(PROVIDER).transit_gateway_attachments[gone])
    later = utcnow() + timedelta(seconds=59)
    monkeypatch.setattr(model, "utcnow", lambda: later)
    kept = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    assert gone in _backend(PROVIDER).transit_gateway_attachments  # inside the window: listed
    client(cloud, "ec2", CUSTOMER).delete_transit_gateway_vpc_attachment(
        TransitGatewayAttachmentId=kept)  # fmt: skip
    # Past the first one's window, not the second's, and a reap interval after the last.
    later = utcnow() + timedelta(seconds=100)
    monkeypatch.setattr(model, "utcnow", lambda: later)
    attach(cloud, CUSTOMER, world.tgw_id, world.vpc)
    gc.collect()
    for account in (PROVIDER, CUSTOMER):
        assert gone not in _backend(account).transit_gateway_attachments
        assert kept in _backend(account).transit_gateway_attachments
    assert ref() is None  # nothing else holds it


def test_a_deleted_share_is_freed_after_the_retention_window(
    cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With it: its associations, tags, invitations and the client tokens of its calls."""
    from datetime import timedelta

    from moto.ram.models import ram_backends

    from linkplane.localcloud import ram_state, retention
    from tests.localcloud.conftest import CUSTOMER, PROVIDER
    from tests.localcloud.test_ec2_support import client, make_tgw, share

    _inproc_only(cloud)
    monkeypatch.setenv(retention.ENV, "60")
    tgw_arn = make_tgw(cloud)["TransitGatewayArn"]
    share(cloud, tgw_arn)
    ram = client(cloud, "ram", PROVIDER)
    (old,) = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]
    ram.delete_resource_share(resourceShareArn=old["resourceShareArn"])
    backend = ram_backends[PROVIDER][REGION]
    ref = weakref.ref(next(s for s in backend.resource_shares if s.arn == old["resourceShareArn"]))
    later = ram_state.now() + timedelta(seconds=61)
    ram_state.set_clock(lambda: later)
    fresh = ram.create_resource_share(name="again", resourceArns=[tgw_arn], principals=[CUSTOMER],
                                      allowExternalPrincipals=True)  # fmt: skip
    gc.collect()
    ledger = ram_state.ledger_of(backend)
    arns = {s.arn for s in backend.resource_shares}
    assert old["resourceShareArn"] not in arns
    assert fresh["resourceShare"]["resourceShareArn"] in arns
    assert old["resourceShareArn"] not in ledger.associations
    assert old["resourceShareArn"] not in ledger.tags
    assert all(i.share_arn != old["resourceShareArn"] for i in ledger.invitations.values())
    assert [key[0] for key in ledger.tokens] == ["create"]  # the old share's calls forgotten
    assert ref() is None
    deleted = ram.get_resource_shares(resourceOwner="SELF", resourceShareStatus="DELETED")
    assert deleted["resourceShares"] == []
