"""Building the cloud port from settings: real AWS and the embedded cloud differ only in
endpoint and credentials, chosen by ``settings.cloud`` (never by the endpoint alone).

- ``embedded``: act as ``settings.provider_account_id`` by STS assume-role against
  ``settings.aws_endpoint_url``, exactly as a real multi-account setup would.
- ``aws``: the default credential chain (environment, profile, instance role), or
  ``settings.aws_access_key_id``/``aws_secret_access_key`` when both are set; an
  ``aws_endpoint_url`` only redirects the calls.

No network I/O happens here; the session is made on the first AWS call.
"""

from __future__ import annotations

from functools import partial

import boto3

from linkplane.cloud.aws import AwsCloud, SessionSource
from linkplane.cloud.port import CloudPort
from linkplane.cloud.ratelimit import Limiter
from linkplane.cloud.retry import RetryPolicy
from linkplane.settings import Settings


def _embedded_session(settings: Settings, region: str) -> boto3.Session:
    from linkplane.localcloud.accounts import session_for

    return session_for(
        settings.provider_account_id, region=region, endpoint_url=settings.aws_endpoint_url
    )


def _aws_session(settings: Settings, region: str) -> boto3.Session:
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        return boto3.Session(
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            region_name=region,
        )
    return boto3.Session(region_name=region)


def session_source(settings: Settings, region: str) -> SessionSource:
    """Where the provider's boto3 session comes from, for ``settings``."""
    if settings.cloud == "embedded":
        return SessionSource(
            partial(_embedded_session, settings, region), settings.aws_endpoint_url
        )
    return SessionSource(partial(_aws_session, settings, region), settings.aws_endpoint_url or None)


def make_cloud(
    settings: Settings, region: str | None = None, *, limiter: Limiter | None = None
) -> CloudPort:
    """The provider account's cloud port in ``region`` (default: settings.default_region);
    ``limiter`` replaces the process-wide client-side rate limiter (a runtime may bring one).
    """
    return make_aws_cloud(settings, region, limiter=limiter)


def make_aws_cloud(
    settings: Settings, region: str | None = None, *, limiter: Limiter | None = None
) -> AwsCloud:
    """:func:`make_cloud` typed as the concrete adapter (for tests and diagnostics)."""
    region = region or settings.default_region
    # Against the embedded cloud the account is known; against AWS it is asked of STS lazily.
    account = settings.provider_account_id if settings.cloud == "embedded" else None
    return AwsCloud(
        session_source(settings, region),
        region=region,
        account_id=account,
        policy=RetryPolicy.from_settings(settings),
        limiter=limiter,
    )
