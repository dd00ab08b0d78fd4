"""Which cloud and which credentials: ``LINKPLANE_CLOUD`` decides, never the endpoint alone.

``aws`` resolves credentials with boto3's standard chain (here a temporary shared
credentials file and config, so nothing goes to the network); ``embedded`` assumes the
provider's role in the embedded cloud; an endpoint override with ``aws`` only redirects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from linkplane.cloud.factory import make_aws_cloud, session_source
from linkplane.settings import Settings

PROFILE_KEY = "AKIAPROFILECHAIN0001"
ENV_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                   "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
                   "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A default profile in temporary files, and no credentials in the environment."""
    creds, config = tmp_path / "credentials", tmp_path / "config"
    creds.write_text(f"[default]\naws_access_key_id = {PROFILE_KEY}\n"
                     "aws_secret_access_key = profile-secret-for-the-chain-test\n")  # fmt: skip
    config.write_text("[default]\nregion = eu-west-1\n")
    for name in ENV_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask instance metadata
    return PROFILE_KEY


def _access_key(settings: Settings) -> str:
    credentials = session_source(settings, "eu-central-1").session().get_credentials()
    assert credentials is not None
    return str(credentials.get_frozen_credentials().access_key)


def test_aws_is_the_default_and_uses_the_standard_credential_chain(
    profile: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.cloud == "aws"
    assert _access_key(settings) == profile
    cloud = make_aws_cloud(settings, "eu-central-1")
    assert cloud._known_account is None  # asked of STS on first use, not assumed
    assert session_source(settings, "eu-central-1").endpoint_url is None


def test_an_endpoint_override_alone_does_not_switch_to_the_embedded_cloud(
    profile: str, tmp_path: Path
) -> None:
    # E.g. a VPC endpoint: calls go there, with the chain's credentials (before, any endpoint
    # meant "assume a role in the embedded cloud with its dummy keys").
    settings = Settings(data_dir=tmp_path, aws_endpoint_url="http://127.0.0.1:9")
    assert _access_key(settings) == profile
    assert session_source(settings, "eu-central-1").endpoint_url == "http://127.0.0.1:9"


def test_explicit_keys_win_over_the_chain(profile: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, aws_access_key_id="AKIAEXPLICIT00000001",
                        aws_secret_access_key="explicit-secret-key-for-the-test")  # fmt: skip
    assert _access_key(settings) == "AKIAEXPLICIT00000001"


def test_embedded_without_an_endpoint_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LINKPLANE_AWS_ENDPOINT_URL"):
        Settings(data_dir=tmp_path, cloud="embedded")
