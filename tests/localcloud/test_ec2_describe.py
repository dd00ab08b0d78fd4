"""Tags from TagSpecifications and the documented filters of the attachment describes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import CUSTOMER, PROVIDER, Cloud
from tests.localcloud.test_ec2_support import (
    attach,
    client,
    error_code,
    make_tgw,
    make_vpc,
    shared_world,
)


def _spec(resource_type: str, **tags: str) -> list[dict[str, Any]]:
    return [
        {"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    ]


def _ids(cloud: Cloud, account: str, vpc_only: bool = False, **filters: str) -> list[str]:
    ec2 = client(cloud, "ec2", account)
    wanted = [{"Name": k.replace("_", "-"), "Values": [v]} for k, v in filters.items()]
    if vpc_only:
        found = ec2.describe_transit_gateway_vpc_attachments(Filters=wanted)
        return [a["TransitGatewayAttachmentId"] for a in found["TransitGatewayVpcAttachments"]]
    found = ec2.describe_transit_gateway_attachments(Filters=wanted)
    return [a["TransitGatewayAttachmentId"] for a in found["TransitGatewayAttachments"]]


def test_tag_specifications_are_kept(cloud: Cloud) -> None:
    world = shared_world(cloud)
    created = attach(
        cloud, CUSTOMER, world.tgw_id, world.vpc,
        TagSpecifications=_spec("transit-gateway-attachment", breakout="b-1"),
    )  # fmt: skip
    assert created["Tags"] == [{"Key": "breakout", "Value": "b-1"}]
    ec2 = client(cloud, "ec2", CUSTOMER)
    (seen,) = ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
    assert seen["Tags"] == [{"Key": "breakout", "Value": "b-1"}]
    provider = client(cloud, "ec2", PROVIDER)
    tgw = provider.create_transit_gateway(TagSpecifications=_spec("transit-gateway", role="core"))
    assert tgw["TransitGateway"]["Tags"] == [{"Key": "role", "Value": "core"}]
    table = provider.create_transit_gateway_route_table(
        TransitGatewayId=world.tgw_id, TagSpecifications=_spec("transit-gateway-route-table", n="c")
    )["TransitGatewayRouteTable"]
    assert table["Tags"] == [{"Key": "n", "Value": "c"}]


def test_tags_are_per_account(cloud: Cloud) -> None:
    world = shared_world(cloud)
    created = attach(
        cloud,
        CUSTOMER,
        world.tgw_id,
        world.vpc,
        TagSpecifications=_spec("transit-gateway-attachment", a="1"),
    )
    attachment_id = created["TransitGatewayAttachmentId"]
    client(cloud, "ec2", PROVIDER).create_tags(
        Resources=[attachment_id], Tags=[{"Key": "p", "Value": "2"}]
    )
    assert _ids(cloud, PROVIDER, **{"tag:p": "2"}) == [attachment_id]
    assert _ids(cloud, PROVIDER, **{"tag:a": "1"}) == []
    assert _ids(cloud, CUSTOMER, **{"tag:a": "1"}) == [attachment_id]


def test_attachment_filters(cloud: Cloud) -> None:
    world = shared_world(cloud)
    core = make_vpc(cloud, PROVIDER, "10.255.0.0/16")
    own = attach(cloud, PROVIDER, world.tgw_id, core)["TransitGatewayAttachmentId"]
    theirs = attach(cloud, CUSTOMER, world.tgw_id, world.vpc)["TransitGatewayAttachmentId"]
    other_tgw = make_tgw(cloud)["TransitGatewayId"]
    assert set(_ids(cloud, PROVIDER)) == {own, theirs}
    for vpc_only in (False, True):
        assert _ids(cloud, PROVIDER, vpc_only, state="pendingAcceptance") == [theirs]
        assert _ids(cloud, PROVIDER, vpc_only, state="available") == [own]
        assert _ids(cloud, PROVIDER, vpc_only, resource_owner_id=CUSTOMER) == [theirs]
        assert _ids(cloud, PROVIDER, vpc_only, transit_gateway_attachment_id=own) == [own]
        assert _ids(cloud, PROVIDER, vpc_only, transit_gateway_id=other_tgw) == []
        assert set(_ids(cloud, PROVIDER, vpc_only, resource_type="vpc")) == {own, theirs}
        assert _ids(cloud, PROVIDER, vpc_only, resource_id=core.id) == [own]
        assert _ids(cloud, PROVIDER, vpc_only, vpc_id=world.vpc.id) == [theirs]
        assert _ids(cloud, CUSTOMER, vpc_only) == [theirs]
    ec2 = client(cloud, "ec2", PROVIDER)
    by_id = ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[theirs])
    assert [a["TransitGatewayAttachmentId"] for a in by_id["TransitGatewayAttachments"]] == [theirs]


def test_unknown_filter_is_refused(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as exc:
        _ids(cloud, PROVIDER, no_such_filter="x")
    assert error_code(exc) == "InvalidParameterValue"


def test_unknown_attachment_id_is_not_found(cloud: Cloud) -> None:
    with pytest.raises(ClientError) as exc:
        client(cloud, "ec2", PROVIDER).describe_transit_gateway_attachments(
            TransitGatewayAttachmentIds=["tgw-attach-0123456789abcdef0"]
        )
    assert error_code(exc) == "InvalidTransitGatewayAttachmentID.NotFound"


def test_the_gateway_index_forgets_gateways_of_a_reset_cloud(cloud: Cloud) -> None:
    # tgw_by_id caches gateways by id; a moto reset replaces every backend, so a cached
    # gateway of the old cloud must not be served (its attachments' views would lie).
    from moto.ec2.models import ec2_backends

    from linkplane.localcloud.ec2.backends import tgw_by_id

    if cloud.mode != "inproc":
        pytest.skip("reads the in-process backends")
    tgw_id = make_tgw(cloud)["TransitGatewayId"]
    first = tgw_by_id(tgw_id)
    assert first is not None and first.id == tgw_id
    assert tgw_by_id(tgw_id) is first  # served from the index
    ec2_backends.reset()
    assert tgw_by_id(tgw_id) is None
