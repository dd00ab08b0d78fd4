"""boto3 sessions for any 12-digit account of the embedded cloud, as AWS would hand them out.

Each account is reached the way a real one is: STS ``AssumeRole`` into a role of that account.
The embedded cloud derives the account from the returned credentials.
"""

from __future__ import annotations

import functools

import boto3
import botocore.loaders
import botocore.session

# Credentials of the embedded cloud's root caller: any value works there; never real ones.
LOCAL_KEY_ID = "AKIALINKPLANELOCAL00"
LOCAL_SECRET = "linkplane-local-secret"  # noqa: S105 - dummy credential of the local cloud


@functools.cache
def _loader() -> botocore.loaders.Loader:
    # Parsing botocore's service models is most of the cost of a new session and client;
    # the loader caches them, so one shared loader makes per-account sessions cheap.
    return botocore.loaders.create_loader()


def _session(**kwargs: str) -> boto3.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, **kwargs)


def session_for(account_id: str, *, region: str, endpoint_url: str | None) -> boto3.Session:
    """A boto3 session acting as ``account_id`` (assume-role into OrganizationAccountAccessRole)."""
    base = _session(
        aws_access_key_id=LOCAL_KEY_ID, aws_secret_access_key=LOCAL_SECRET, region_name=region
    )
    sts = base.client("sts", endpoint_url=endpoint_url)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="linkplane",
    )["Credentials"]
    return _session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )
