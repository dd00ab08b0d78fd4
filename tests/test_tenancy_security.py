"""Hashing, the JWT signing key, auth token checks, demo organisation, the org CLI."""

from __future__ import annotations

import hashlib
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkplane.context import AppContext
from linkplane.db import transaction, utcnow
from linkplane.errors import Unauthorized
from linkplane.settings import Settings
from linkplane.tenancy import security, service
from linkplane.tenancy.principal import Role


def test_password_hash_accepts_plain_and_sha1_only() -> None:
    stored = security.hash_password("s3cret-password")
    assert stored.startswith("$argon2id$") and "s3cret" not in stored
    assert security.verify_password(stored, "s3cret-password")
    assert security.verify_password(stored, hashlib.sha1(b"s3cret-password").hexdigest())
    assert not security.verify_password(stored, "s3cret-passwor")
    assert not security.verify_password(None, "anything")


def test_weak_jwt_secrets_are_refused() -> None:
    for weak in ("short", "changeme" * 5, "a" * 40, "secretsecretsecretsecretsecretsecret"):
        with pytest.raises(ValueError):
            Settings(jwt_secret=weak)
    assert Settings(jwt_secret="q8Zr2vX0pLm4Tn7Yc1Wb5Hd9Kf3Gs6Je").jwt_secret


def test_generated_key_is_private_persistent_and_shared(tmp_path: Path) -> None:
    key = security.signing_key(jwt_secret="", data_dir=tmp_path)
    path = tmp_path / security.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert security._read_or_create_secret(path) == key  # a second process reads the same


def test_auth_token_forgery_expiry_and_revocation(ctx: AppContext, settings: Settings) -> None:
    with transaction(ctx.sessionmaker) as session:
        org, admin = service.create_org_with_admin(
            session=session, name="acme", admin_email="a@acme.io", admin_password="password-1"
        )
        ids = org.id, admin.id
    good = service.mint(settings=settings, org_id=ids[0], role="admin", user_id=ids[1])
    old = service.mint(
        settings=settings,
        org_id=ids[0],
        role="admin",
        user_id=ids[1],
        now=utcnow() - timedelta(hours=2),
    )
    claims = security.AuthClaims(org_id=ids[0], role="admin", user_id=ids[1], app_token_id=None)
    forged = security.mint_auth_token(
        key="x" * 40 + "yz0123456789", claims=claims, now=utcnow(), ttl_seconds=60
    )
    wrong_org = service.mint(settings=settings, org_id=ids[0] + 1, role="admin", user_id=ids[1])
    with transaction(ctx.sessionmaker) as session:
        principal = service.principal_from_auth_token(
            session=session, settings=settings, token=good
        )
        assert principal.org_id == ids[0] and principal.role is Role.ADMIN
        assert not principal.provider_admin
        for bad in (old, forged, wrong_org, good[:-2] + "xx", "None", ""):
            with pytest.raises(Unauthorized):
                service.principal_from_auth_token(session=session, settings=settings, token=bad)


def test_ensure_demo_org_uses_environment_then_is_idempotent(ctx: AppContext) -> None:
    settings = ctx.settings.model_copy(
        update={"demo_email": "Demo@Example.com", "demo_password": "demo-password-1"}
    )
    with transaction(ctx.sessionmaker) as session:
        creds = service.ensure_demo_org(session=session, settings=settings)
    assert creds is not None and not creds.generated and creds.email == "demo@example.com"
    tokens = service.authenticate_password(
        factory=ctx.sessionmaker,
        settings=settings,
        username="demo@example.com",
        password=hashlib.sha1(b"demo-password-1").hexdigest(),
        source="127.0.0.1",
    )
    assert tokens.auth_token and tokens.refresh_token
    with transaction(ctx.sessionmaker) as session:
        assert service.ensure_demo_org(session=session, settings=settings) is None


def test_generated_demo_credentials(ctx: AppContext) -> None:
    with transaction(ctx.sessionmaker) as session:
        creds = service.ensure_demo_org(session=session, settings=ctx.settings)
    assert creds is not None and creds.generated and len(creds.password) >= 12


def test_org_cli_create_and_list(tmp_path: Path) -> None:
    from linkplane.tenancy.cli import app

    runner = CliRunner()
    args = [
        "create",
        "acme",
        "--admin-email",
        "a@acme.io",
        "--admin-password",
        "password-1",
        "--data-dir",
        str(tmp_path),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "created organisation acme" in result.output and "password-1" not in result.output
    provider = [
        "create",
        "ops",
        "--provider",
        "--admin-email",
        "o@ops.io",
        "--admin-password",
        "password-2",
        "--data-dir",
        str(tmp_path),
    ]
    assert runner.invoke(app, provider).exit_code == 0
    listed = runner.invoke(app, ["list", "--data-dir", str(tmp_path)])
    assert "acme" in listed.output and "ops  provider" in listed.output
    again = runner.invoke(app, args)
    assert again.exit_code != 0
