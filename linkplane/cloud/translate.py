"""botocore failures -> :mod:`linkplane.cloud.errors`, through one mapping table.

Every AWS call of the adapter runs inside :func:`translated`, so no botocore exception leaves
:mod:`linkplane.cloud`. The table below is the single place that decides what an AWS error
code means to linkplane (and therefore whether it is retried).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from linkplane.cloud.errors import (
    AccessDenied,
    CloudError,
    EndpointUnreachable,
    InvalidRequest,
    ResourceConflict,
    ResourceNotFound,
    Throttled,
    Transient,
)

#: AWS error code patterns (fnmatch, case-sensitive), first match wins. Order matters:
#: throttling before the generic ``*LimitExceeded`` quota rule, ``*.NotFound`` before the
#: generic ``Invalid*`` rule (EC2 spells "not found" as ``InvalidXxxID.NotFound``).
ERROR_TABLE: tuple[tuple[str, type[CloudError]], ...] = (
    # Throttling (EC2, RAM, STS spellings)
    ("RequestLimitExceeded", Throttled),
    ("Throttling*", Throttled),
    ("ThrottlingException", Throttled),
    ("ThrottledException", Throttled),
    ("TooManyRequestsException", Throttled),
    ("RequestThrottled*", Throttled),
    ("SlowDown", Throttled),
    # Server side, try again
    ("InternalError", Transient),
    ("InternalFailure", Transient),
    ("ServerInternalException", Transient),
    ("ServiceUnavailable*", Transient),
    ("Unavailable", Transient),
    ("RequestTimeout*", Transient),
    ("InsufficientCapacity", Transient),
    # Not found
    ("*.NotFound", ResourceNotFound),
    ("*NotFound", ResourceNotFound),
    ("*NotFoundException", ResourceNotFound),
    ("UnknownResourceException", ResourceNotFound),
    ("NoSuchEntity", ResourceNotFound),
    # Wrong state, duplicates, idempotency mismatch, quotas
    ("IncorrectState*", ResourceConflict),
    ("InvalidState*", ResourceConflict),
    ("IdempotentParameterMismatch*", ResourceConflict),
    ("*AlreadyExists*", ResourceConflict),
    ("*.AlreadyAssociated", ResourceConflict),
    ("*AlreadyAccepted*", ResourceConflict),
    ("*AlreadyRejected*", ResourceConflict),
    ("*.Duplicate", ResourceConflict),
    ("Duplicate*", ResourceConflict),
    ("DependencyViolation", ResourceConflict),
    ("*ExpiredException", ResourceConflict),
    ("*LimitExceeded*", ResourceConflict),
    ("*QuotaExceeded*", ResourceConflict),
    ("OperationNotPermittedException", ResourceConflict),
    # Credentials and permissions (before Invalid*: InvalidClientTokenId is an auth failure)
    ("AccessDenied*", AccessDenied),
    ("UnauthorizedOperation", AccessDenied),
    ("AuthFailure", AccessDenied),
    ("InvalidClientTokenId", AccessDenied),
    ("UnrecognizedClientException", AccessDenied),
    ("ExpiredToken*", AccessDenied),
    ("OptInRequired", AccessDenied),
    # The request itself is wrong
    ("ValidationError", InvalidRequest),
    ("ValidationException", InvalidRequest),
    ("MalformedArn*", InvalidRequest),
    ("*.Malformed", InvalidRequest),
    ("MissingParameter", InvalidRequest),
    ("UnsupportedOperation", InvalidRequest),
    ("Invalid*", InvalidRequest),
)

#: When the code is unknown, the HTTP status still says a lot.
_BY_STATUS: tuple[tuple[range, type[CloudError]], ...] = (
    (range(500, 600), Transient),
    (range(429, 430), Throttled),
    (range(404, 405), ResourceNotFound),
    (range(409, 410), ResourceConflict),
    (range(401, 404), AccessDenied),
    (range(400, 401), InvalidRequest),
)


def class_for(code: str, http_status: int = 400) -> type[CloudError]:
    """The :class:`CloudError` class an AWS error code (or, failing that, status) maps to."""
    for pattern, cls in ERROR_TABLE:
        if fnmatchcase(code, pattern):
            return cls
    for statuses, cls in _BY_STATUS:
        if http_status in statuses:
            return cls
    return CloudError


def _from_client_error(exc: ClientError, operation: str) -> CloudError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or str(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
    cls = class_for(code, status)
    return cls(f"{operation}: {code}: {message}", aws_code=code, operation=operation)


def _from_botocore(exc: BotoCoreError, operation: str) -> CloudError:
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        url = getattr(exc, "kwargs", {}).get("endpoint_url", "") or str(exc)
        return EndpointUnreachable(
            f"cannot reach AWS endpoint URL: {url}", operation=operation
        )
    if isinstance(exc, ConnectionClosedError | ReadTimeoutError):
        return Transient(f"{operation}: {exc}", operation=operation)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDenied(
            f"no AWS credentials found ({exc}); configure them or set LINKPLANE_AWS_* keys",
            operation=operation,
        )
    if isinstance(exc, ParamValidationError):
        return InvalidRequest(f"{operation}: {exc}", operation=operation)
    return CloudError(f"{operation}: {exc}", operation=operation)


def translate(exc: Exception, operation: str = "") -> CloudError:
    """The :class:`CloudError` for a botocore exception (others are wrapped as CloudError)."""
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, ClientError):
        return _from_client_error(exc, operation)
    if isinstance(exc, BotoCoreError):
        return _from_botocore(exc, operation)
    if isinstance(exc, ResponseParserError):
        # An error body botocore cannot parse (an HTML 5xx page of a proxy or a crashed
        # server): nothing says the request was wrong, so it may succeed when tried again.
        return Transient(f"{operation}: unparseable response: {exc}", operation=operation)
    return CloudError(f"{operation}: {exc}", operation=operation)


@contextmanager
def translated(operation: str) -> Iterator[None]:
    """Run a block of AWS calls; any botocore exception leaves it as a :class:`CloudError`."""
    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        raise translate(exc, operation) from exc
