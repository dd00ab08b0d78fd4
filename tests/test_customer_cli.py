"""``linkplane customer``: a customer account's side of a breakout, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkplane.context import write_runtime
from linkplane.errors import InvalidInput, NotFound
from linkplane.localcloud.customer_cli import app
from tests.cloudkit import adapter
from tests.localcloud import conftest as lc

_http_cloud = lc._http_cloud
runner = CliRunner()


@pytest.fixture
def http(_http_cloud: str) -> Iterator[lc.Cloud]:
    lc._reset()
    yield lc.Cloud("http", _http_cloud)
    lc._reset()


def customer(endpoint: str, *args: str, account: str = lc.CUSTOMER) -> str:
    result = runner.invoke(app, ["--account", account, "--endpoint-url", endpoint, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_accept_invitation_create_vpc_attach_and_detach(http: lc.Cloud) -> None:
    provider = adapter(http)
    tgw = provider.create_transit_gateway(description="d", client_token="c", tags={})
    provider.ensure_resource_share(
        name="b1", resource_arn=tgw.arn, principal=lc.CUSTOMER, client_token="b1", tags={}
    )
    ep = str(http.endpoint_url)
    invitations = json.loads(customer(ep, "invitations", "list", "--json"))
    assert [(i["status"], i["sender"]) for i in invitations] == [("PENDING", lc.PROVIDER)]
    assert "ACCEPTED" in customer(ep, "invitations", "accept")
    vpc = json.loads(
        customer(ep, "vpc", "create", "--cidr", "10.20.0.0/16", "--azs", "2", "--json")
    )
    assert [s["cidr"] for s in vpc["subnets"]] == ["10.20.0.0/17", "10.20.128.0/17"]
    att = json.loads(
        customer(ep, "attach", "create", "--tgw-id", tgw.id, "--vpc-id", vpc["vpc_id"], "--json")
    )
    assert att["state"] == "pendingAcceptance"
    seen = provider.describe_attachment(att["id"])
    assert seen is not None and seen.resource_owner_id == lc.CUSTOMER
    assert att["id"] in customer(ep, "attach", "list")
    assert customer(ep, "attach", "delete", att["id"]).split() == [att["id"], "deleting"]
    after = provider.describe_attachment(att["id"])
    assert after is None or after.state in {"deleting", "deleted"}


def test_reject_and_bad_input(http: lc.Cloud, tmp_path: Path) -> None:
    provider = adapter(http)
    tgw = provider.create_transit_gateway(description="d", client_token="r", tags={})
    provider.ensure_resource_share(
        name="b2", resource_arn=tgw.arn, principal=lc.OTHER, client_token="b2", tags={}
    )
    ep = str(http.endpoint_url)
    assert "REJECTED" in customer(ep, "invitations", "reject", account=lc.OTHER)
    with pytest.raises(NotFound, match="no pending invitation"):
        customer(ep, "invitations", "accept", account=lc.OTHER)
    with pytest.raises(InvalidInput, match="12 digits"):
        customer(ep, "attach", "list", account="1234")
    with pytest.raises(InvalidInput, match="too small"):
        customer(ep, "vpc", "create", "--cidr", "10.0.0.0/28", "--azs", "3")
    # --data-dir finds the cloud of a running `linkplane up` through runtime.json
    write_runtime(tmp_path, {"cloud_endpoint": ep})
    out = runner.invoke(
        app, ["--account", lc.CUSTOMER, "--data-dir", str(tmp_path), "attach", "list"]
    )
    assert out.output.strip() == "no attachments"
    with pytest.raises(InvalidInput, match="no running linkplane"):
        customer_dd = runner.invoke(
            app, ["--account", lc.CUSTOMER, "--data-dir", str(tmp_path / "x"), "attach", "list"]
        )
        raise customer_dd.exception or AssertionError("expected an error")
