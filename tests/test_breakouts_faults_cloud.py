"""The embedded cloud's fault hook as the fault matrix uses it: ``match`` narrows a fault to
requests naming a text, and ``inject_disconnect`` drops the connection without a response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from linkplane.cloud.errors import Transient
from linkplane.cloud.translate import translate
from linkplane.localcloud import throttle
from linkplane.localcloud.accounts import session_for
from tests.test_breakouts_support import _cloud

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
ACCOUNT = "222200001111"


@pytest.fixture
def ec2() -> Iterator[Any]:
    throttle.reset()
    endpoint = _cloud().endpoint_url
    session = session_for(ACCOUNT, region="eu-central-1", endpoint_url=endpoint)
    yield session.client("ec2", endpoint_url=endpoint, config=NO_RETRIES)
    throttle.reset()


def test_a_matched_fault_spares_requests_that_do_not_mention_the_text(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    throttle.inject_fault("DescribeVpcs", "InternalError", 500, 1, match=vpc)
    ec2.describe_vpcs(VpcIds=[])  # does not name the VPC: served
    assert throttle.pending_faults() == {"DescribeVpcs": 1}
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpcs(VpcIds=[vpc])
    assert exc.value.response["Error"]["Code"] == "InternalError"
    assert throttle.pending_faults() == {}
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc


def test_a_dropped_connection_is_a_retryable_transient_error(ec2: Any) -> None:
    throttle.inject_disconnect("DescribeVpcs", 1)
    with pytest.raises(ConnectionClosedError) as exc:
        ec2.describe_vpcs()
    translated = translate(exc.value, "DescribeVpcs")
    assert isinstance(translated, Transient) and translated.retryable
    assert "Vpcs" in ec2.describe_vpcs()


def test_an_unparseable_error_response_is_transient_not_a_crash() -> None:
    # Seen under load: the embedded cloud answered a 500 HTML page; botocore's
    # ResponseParserError is no BotoCoreError, escaped translation and killed the workflow.
    from botocore.parsers import ResponseParserError

    from linkplane.cloud.translate import translated

    with pytest.raises(Transient) as exc, translated("DescribeTransitGatewayAttachments"):
        raise ResponseParserError("Unable to parse response, invalid XML received")
    assert exc.value.retryable
