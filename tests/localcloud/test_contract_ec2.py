"""Contract with the moto internals the EC2 extension patches and reads.

If a moto upgrade renames, removes or reshapes any of them, these tests fail with the name of
the piece that moved, instead of the extension silently falling back to moto's behaviour.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import boto3
import pytest

from linkplane.localcloud.ec2 import patches
from linkplane.localcloud.install import install
from tests.localcloud.conftest import REGION

PINNED_MOTO = "5.2.5"


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == PINNED_MOTO, "re-run and re-read every contract below, then re-pin"


@pytest.mark.parametrize("patch", patches.PATCHES, ids=lambda p: p.name)
def test_every_patch_target_exists_as_expected(patch: patches.Patch) -> None:
    install()
    cls = patch.resolve()
    original = patches.ORIGINALS[(patch.target, patch.name)]
    if patch.new:
        assert original is None, f"moto now has {patch.name}: compare with ours, maybe drop ours"
    else:
        assert callable(original), f"moto no longer has {patch.target}.{patch.name}"
    assert getattr(cls, patch.name) is not original


WRAPPED_SIGNATURES = {
    "create_transit_gateway": ["self", "description", "options", "tags"],
    "create_transit_gateway_peering_attachment": [
        "self", "transit_gateway_id", "peer_transit_gateway_id", "peer_region",
        "peer_account_id", "tags",
    ],
    "accept_transit_gateway_peering_attachment": ["self", "transit_gateway_attachment_id"],
    "reject_transit_gateway_peering_attachment": ["self", "transit_gateway_attachment_id"],
    "delete_transit_gateway_peering_attachment": ["self", "transit_gateway_attachment_id"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRAPPED_SIGNATURES))
def test_wrapped_methods_keep_their_parameters(name: str) -> None:
    install()
    (patch,) = [p for p in patches.PATCHES if p.name == name]
    original = patches.ORIGINALS[(patch.target, name)]
    assert list(inspect.signature(original).parameters) == WRAPPED_SIGNATURES[name]


def test_constructors_we_call_keep_their_parameters() -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.transit_gateway_attachments import TransitGatewayVpcAttachment
    from moto.ec2.models.transit_gateway_route_tables import (
        RouteTableAssociation,
        RouteTablePropagation,
    )

    vpc_params = list(inspect.signature(TransitGatewayVpcAttachment.__init__).parameters)
    assert vpc_params == [
        "self",
        "backend",
        "transit_gateway",
        "vpc_id",
        "subnet_ids",
        "tags",
        "options",
    ]
    relation = ["self", "resource_id", "resource_type", "state", "transit_gateway_attachment_id"]
    for cls in (RouteTableAssociation, RouteTablePropagation):
        assert list(inspect.signature(cls.__init__).parameters) == relation
    error = EC2ClientError("Code.X", "message")
    assert (error.code, error.message) == ("Code.X", "message")


def test_response_helpers_we_use_exist() -> None:
    from moto.core.responses import ActionResult, BaseResponse, EmptyResult
    from moto.core.utils import method_names_from_class, utcnow
    from moto.ec2.responses import EC2Response

    for name in ("_get_param", "_filters_from_querystring", "ec2_backend"):
        assert hasattr(EC2Response, name), name
    # moto dispatches an action to the response method of that name (BaseResponse.call_action,
    # possibly wrapped by the throttle extension); the actions we add must be listed there.
    install()
    assert callable(BaseResponse.call_action)
    for patch in patches.PATCHES:
        if patch.target == patches.RESPONSE:
            assert patch.name in method_names_from_class(EC2Response), patch.name
    assert callable(utcnow) and ActionResult and EmptyResult


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """One of each moto object the extension reads, created through moto's own API."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    from moto import mock_aws
    from moto.ec2.models import ec2_backends

    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        tgw_id = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        backend = next(
            b for _a, _r, b in ec2_backends.iter_backends() if tgw_id in b.transit_gateways
        )
        yield {
            "backend": backend,
            "tgw": backend.transit_gateways[tgw_id],
            "vpc": backend.vpcs[vpc_id],
        }


def test_backend_state_we_read(world: dict[str, Any]) -> None:
    backend = world["backend"]
    for name in (
        "transit_gateways", "transit_gateway_attachments", "transit_gateways_route_tables",
        "vpcs", "tags", "account_id", "region_name", "get_vpc", "get_subnet",
        "create_transit_gateway_vpn_attachment", "create_vpn_connection", "delete_vpn_connection",
        "delete_transit_gateway",
    ):  # fmt: skip
        assert hasattr(backend, name), name


def test_gateway_and_table_attributes_we_read(world: dict[str, Any]) -> None:
    tgw = world["tgw"]
    for name in ("id", "arn", "state", "owner_id", "description", "creation_time", "options",
                 "default_route_table", "ec2_backend"):  # fmt: skip
        assert hasattr(tgw, name), name
    table = world["backend"].create_transit_gateway_route_table(transit_gateway_id=tgw.id)
    for name in ("id", "transit_gateway_id", "state", "routes", "route_table_associations",
                 "route_table_propagation", "ec2_backend", "default_association_route_table",
                 "default_propagation_route_table"):  # fmt: skip
        assert hasattr(table, name), name
    assert isinstance(table.routes, dict) and isinstance(table.route_table_associations, dict)
    assert isinstance(table.route_table_propagation, list)


def test_attachment_attributes_we_read(world: dict[str, Any]) -> None:
    from moto.ec2.models.transit_gateway_attachments import TransitGatewayVpcAttachment

    attachment = TransitGatewayVpcAttachment(
        world["backend"], transit_gateway=world["tgw"], vpc_id=world["vpc"].id, subnet_ids=[]
    )
    for name in ("id", "state", "resource_id", "resource_type", "resource_owner_id", "owner_id",
                 "transit_gateway_id", "vpc_id", "subnet_ids", "options", "create_time",
                 "_created_at", "ec2_backend"):  # fmt: skip
        assert hasattr(attachment, name), name


def test_peering_attachment_sides_we_read(world: dict[str, Any]) -> None:
    backend, tgw = world["backend"], world["tgw"]
    peering = backend.create_transit_gateway_peering_attachment(
        tgw.id, "tgw-0123456789abcdef0", "eu-west-1", backend.account_id, {}
    )
    for side in (peering.requester_tgw_info, peering.accepter_tgw_info):
        assert set(side) == {"OwnerId", "Region", "TransitGatewayId"}
    assert peering.resource_type == "peering"


def test_vpc_cidr_blocks_we_read(world: dict[str, Any]) -> None:
    (block,) = world["vpc"].get_cidr_block_association_set(ipv6=False)
    assert block["cidr_block"] == "10.0.0.0/16"
    assert block["cidr_block_state"]["state"] == "associated"


def test_install_is_idempotent_and_reachable_from_ec2_ext() -> None:
    from moto.ec2.models.transit_gateway import TransitGatewayBackend

    from linkplane.localcloud import ec2_ext

    ec2_ext.install()
    wrapped = TransitGatewayBackend.create_transit_gateway
    originals = dict(patches.ORIGINALS)
    ec2_ext.install()
    patches.install()
    assert TransitGatewayBackend.create_transit_gateway is wrapped  # not wrapped twice
    assert originals == patches.ORIGINALS
