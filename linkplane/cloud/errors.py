"""Cloud errors: every botocore failure is translated once, here, into this hierarchy."""

from __future__ import annotations

from linkplane.errors import LinkplaneError


class CloudError(LinkplaneError):
    """An AWS call failed. ``retryable`` says whether trying again may succeed."""

    code = "cloud_error"
    retryable = False

    def __init__(self, message: str, *, aws_code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.aws_code = aws_code
        self.operation = operation


class Throttled(CloudError):
    code = "throttled"
    retryable = True


class Transient(CloudError):
    """5xx, timeouts, connection resets: the same call may succeed later."""

    code = "transient"
    retryable = True


class EndpointUnreachable(Transient):
    code = "endpoint_unreachable"


class ResourceNotFound(CloudError):
    code = "resource_not_found"


class InvalidRequest(CloudError):
    code = "invalid_request"


class AccessDenied(CloudError):
    code = "access_denied"


class ResourceConflict(CloudError):
    """Wrong state, already exists, idempotency mismatch, quota exceeded."""

    code = "resource_conflict"
