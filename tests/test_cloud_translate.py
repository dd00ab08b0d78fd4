"""The one mapping table from AWS error codes to CloudError classes."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from linkplane.cloud import errors as e
from linkplane.cloud.translate import translate, translated


def client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "msg"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "SomeOperation",
    )


CASES = [
    ("RequestLimitExceeded", e.Throttled, True),
    ("Throttling", e.Throttled, True),
    ("ThrottlingException", e.Throttled, True),
    ("InternalError", e.Transient, True),
    ("ServiceUnavailable", e.Transient, True),
    ("InvalidTransitGatewayID.NotFound", e.ResourceNotFound, False),
    ("InvalidVpcID.NotFound", e.ResourceNotFound, False),
    ("InvalidRoute.NotFound", e.ResourceNotFound, False),
    ("UnknownResourceException", e.ResourceNotFound, False),
    ("ResourceShareInvitationArnNotFoundException", e.ResourceNotFound, False),
    ("IncorrectState", e.ResourceConflict, False),
    ("IdempotentParameterMismatch", e.ResourceConflict, False),
    ("IdempotentParameterMismatchException", e.ResourceConflict, False),
    ("RouteAlreadyExists", e.ResourceConflict, False),
    ("Resource.AlreadyAssociated", e.ResourceConflict, False),
    ("TransitGatewayLimitExceeded", e.ResourceConflict, False),
    ("ResourceShareLimitExceededException", e.ResourceConflict, False),
    ("ServiceQuotaExceededException", e.ResourceConflict, False),
    ("DependencyViolation", e.ResourceConflict, False),
    ("AccessDenied", e.AccessDenied, False),
    ("AccessDeniedException", e.AccessDenied, False),
    ("UnauthorizedOperation", e.AccessDenied, False),
    ("InvalidClientTokenId", e.AccessDenied, False),
    ("InvalidParameterValue", e.InvalidRequest, False),
    ("InvalidTransitGatewayID.Malformed", e.InvalidRequest, False),
    ("ValidationError", e.InvalidRequest, False),
    ("MalformedArnException", e.InvalidRequest, False),
]


@pytest.mark.parametrize(("code", "cls", "retryable"), CASES)
def test_code_maps_to_class(code: str, cls: type[e.CloudError], retryable: bool) -> None:
    err = translate(client_error(code), "Op")
    assert type(err) is cls
    assert err.retryable is retryable
    assert err.aws_code == code
    assert err.operation == "Op"
    assert code in err.message


@pytest.mark.parametrize(
    ("status", "cls"),
    [(500, e.Transient), (503, e.Transient), (429, e.Throttled), (404, e.ResourceNotFound),
     (403, e.AccessDenied), (400, e.InvalidRequest)],
)  # fmt: skip
def test_unknown_code_falls_back_on_http_status(status: int, cls: type[e.CloudError]) -> None:
    assert type(translate(client_error("SomethingNew", status))) is cls


def test_connection_failures() -> None:
    down = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:9/"), "Op")
    assert isinstance(down, e.EndpointUnreachable)
    assert down.retryable
    assert down.message == "cannot reach AWS endpoint URL: http://127.0.0.1:9/"
    closed = translate(ConnectionClosedError(endpoint_url="http://x"), "Op")
    timeout = translate(ReadTimeoutError(endpoint_url="http://x"), "Op")
    assert type(closed) is e.Transient and type(timeout) is e.Transient
    assert isinstance(translate(NoCredentialsError(), "Op"), e.AccessDenied)


def test_translated_block_raises_cloud_error_chained() -> None:
    with pytest.raises(e.ResourceNotFound) as info, translated("DescribeVpcs"):
        raise client_error("InvalidVpcID.NotFound")
    assert isinstance(info.value.__cause__, ClientError)
    assert isinstance(info.value, e.CloudError)
