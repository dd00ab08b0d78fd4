"""MFA over HTTP: TOTP keys, the second sign-in step at POST /authenticate, replay refusal,
trusted devices and who may delete what (SQLite and PostgreSQL when configured)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from linkplane.context import AppContext, open_context
from linkplane.db import transaction, utcnow
from linkplane.mfa import service as mfa_service
from linkplane.mfa import vault
from linkplane.mfa.models import Challenge, MfaKey
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.principal import Role

PASSWORD = "correct horse battery"
FINGERPRINT = "device-" + "f" * 24


class Clock:
    """The MFA service's view of time, moved by the test (codes change every 30 s)."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def code(self, secret: str) -> str:
        return vault.code_at(secret, self.now)

    def next_window(self) -> None:
        self.now += vault.STEP_SECONDS


@dataclass
class World:
    client: TestClient
    ctx: AppContext
    clock: Clock
    org_id: int
    admin: str
    observer: str

    def login(self, username: str, **extra: Any) -> Any:
        return self.client.post(
            "/api/v1/authenticate", json={"username": username, "password": PASSWORD, **extra}
        )

    def headers(self, username: str) -> dict[str, str]:
        r = self.login(username)
        assert r.status_code == 200 and "auth_token" in r.json(), r.text
        return {"Authorization": f"Bearer {r.json()['auth_token']}"}

    def enrol(self, username: str) -> tuple[int, str, dict[str, str]]:
        """Create and activate a key; returns its id, secret and the user's headers."""
        h = self.headers(username)
        r = self.client.post(
            "/api/v1/user/mfa", json={"type": {"id": 1}, "password": PASSWORD}, headers=h
        )
        assert r.status_code == 200, r.text
        key_id, secret = r.json()["id"], r.json()["secret_key"]
        r = self.client.patch(
            f"/api/v1/user/mfa/{key_id}",
            headers=h,
            json={"status": {"id": 1}, "code": self.clock.code(secret)},
        )
        assert r.status_code == 204, r.text
        self.clock.next_window()
        return key_id, secret, h


@pytest.fixture
def world(any_db_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    clock = Clock()
    monkeypatch.setattr(mfa_service, "time", SimpleNamespace(time=clock.time))
    ctx = open_context(any_db_settings)
    tag = secrets.token_hex(4)
    admin, observer = f"admin-{tag}@example.com", f"observer-{tag}@example.com"
    with transaction(ctx.sessionmaker) as session:
        org, _ = service.create_org_with_admin(
            session=session, name=f"mfa-{tag}", admin_email=admin, admin_password=PASSWORD
        )
        service.create_user(
            session=session,
            org_id=org.id,
            username=observer,
            name="Obs",
            role=Role.OBSERVER,
            password=PASSWORD,
            principal=None,
        )
        org_id = org.id
    with TestClient(create_app(any_db_settings, ctx.sessionmaker)) as client:
        yield World(client, ctx, clock, org_id, admin, observer)
    ctx.close()


def test_a_key_is_created_with_its_secret_once_and_activated_with_a_code(world: World) -> None:
    h = world.headers(world.admin)
    wrong = world.client.post(
        "/api/v1/user/mfa", headers=h, json={"type": {"id": 1}, "password": "not the password"}
    )
    assert wrong.status_code == 422 and "password" in wrong.text
    r = world.client.post(
        "/api/v1/user/mfa", json={"type": {"id": 1}, "password": PASSWORD}, headers=h
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == {"id": 0, "description": "Activation Pending"}
    assert body["type"] == {"id": 1, "description": "TOTP"}
    assert body["otpauth"].startswith("otpauth://totp/") and body["secret_key"] in body["otpauth"]
    with world.ctx.sessionmaker() as session:
        stored = session.scalars(select(MfaKey.secret_enc)).all()
    assert stored and all(body["secret_key"] not in s for s in stored)  # sealed, not clear
    bad = world.client.patch(
        f"/api/v1/user/mfa/{body['id']}", headers=h, json={"status": {"id": 1}, "code": "000000"}
    )
    assert bad.status_code == 422 and "code" in bad.text
    code = world.clock.code(body["secret_key"])
    ok = world.client.patch(
        f"/api/v1/user/mfa/{body['id']}", headers=h, json={"status": {"id": 1}, "code": code}
    )
    assert ok.status_code == 204, ok.text
    again = world.client.patch(
        f"/api/v1/user/mfa/{body['id']}", headers=h, json={"status": {"id": 1}, "code": code}
    )
    assert again.status_code == 409
    second = world.client.post(
        "/api/v1/user/mfa", json={"type": {"id": 1}, "password": PASSWORD}, headers=h
    )
    assert second.status_code == 409


def test_login_with_mfa_needs_the_code_and_a_code_is_single_use(world: World) -> None:
    _, secret, _ = world.enrol(world.admin)
    first = world.login(world.admin)
    assert first.status_code == 200
    assert set(first.json()) == {"mfa_token"}  # no auth_token before the code
    mfa_token = first.json()["mfa_token"]
    wrong = world.client.post(
        "/api/v1/authenticate", json={"mfa_token": mfa_token, "code": "123456"}
    )
    assert wrong.status_code == 401 and "invalid code" in wrong.text
    code = world.clock.code(secret)
    ok = world.client.post("/api/v1/authenticate", json={"mfa_token": mfa_token, "code": code})
    assert ok.status_code == 200, ok.text
    assert {"auth_token", "refresh_token"} <= set(ok.json())
    me = world.client.get(
        "/api/v1/user/my", headers={"Authorization": f"Bearer {ok.json()['auth_token']}"}
    )
    assert me.status_code == 200
    # The spent mfa_token is gone; the same code with a fresh mfa_token is a replay.
    spent = world.client.post("/api/v1/authenticate", json={"mfa_token": mfa_token, "code": code})
    assert spent.status_code == 401 and "mfa_token" in spent.text
    fresh = world.login(world.admin).json()["mfa_token"]
    replay = world.client.post("/api/v1/authenticate", json={"mfa_token": fresh, "code": code})
    assert replay.status_code == 401
    world.clock.next_window()
    later = world.client.post(
        "/api/v1/authenticate", json={"mfa_token": fresh, "code": world.clock.code(secret)}
    )
    assert later.status_code == 200


def test_five_wrong_codes_in_a_row_lock_mfa_even_across_mfa_tokens(world: World) -> None:
    """A new mfa_token (the password sent again) buys no fresh guesses."""
    _, secret, _ = world.enrol(world.admin)

    def attempt(mfa_token: str, code: str) -> Any:
        return world.client.post(
            "/api/v1/authenticate", json={"mfa_token": mfa_token, "code": code}
        )

    first = world.login(world.admin).json()["mfa_token"]
    for _ in range(3):
        assert attempt(first, "999999").status_code == 401
    second = world.login(world.admin).json()["mfa_token"]
    assert "invalid code" in attempt(second, "999999").text
    locked = attempt(second, "999999")
    assert locked.status_code == 401 and "TooManyRequests" in locked.text
    # Locked: even the right code with a fresh mfa_token is refused ...
    third = world.login(world.admin).json()["mfa_token"]
    right = attempt(third, world.clock.code(secret))
    assert right.status_code == 401 and "TooManyRequests" in right.text
    # ... until the lock runs out.
    with transaction(world.ctx.sessionmaker) as session:
        session.execute(update(MfaKey).values(locked_until=utcnow() - timedelta(seconds=1)))
    fourth = world.login(world.admin).json()["mfa_token"]
    assert attempt(fourth, world.clock.code(secret)).status_code == 200


def test_an_expired_mfa_token_is_refused(world: World) -> None:
    _, secret, _ = world.enrol(world.admin)
    mfa_token = world.login(world.admin).json()["mfa_token"]
    with transaction(world.ctx.sessionmaker) as session:
        session.execute(update(Challenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = world.client.post(
        "/api/v1/authenticate", json={"mfa_token": mfa_token, "code": world.clock.code(secret)}
    )
    assert r.status_code == 401 and "expired" in r.text


def test_mfa_step_input_errors_say_what_is_missing(world: World) -> None:
    r = world.client.post("/api/v1/authenticate", json={"mfa_token": "x"})
    assert r.status_code in (400, 422) and "code" in r.text
    r = world.client.post(
        "/api/v1/authenticate",
        json={"mfa_token": "x", "code": "123456", "trusted_device": {"fingerprint": "ab"}},
    )
    assert r.status_code in (400, 422) and "fingerprint" in r.text


def test_a_trusted_device_skips_the_code_until_it_is_deleted(world: World) -> None:
    _, secret, h = world.enrol(world.admin)
    mfa_token = world.login(world.admin).json()["mfa_token"]
    device = {
        "fingerprint": FINGERPRINT,
        "operating_system": "Linux",
        "browser": "curl",
        "name": "build box",
    }
    r = world.client.post(
        "/api/v1/authenticate",
        json={"mfa_token": mfa_token, "code": world.clock.code(secret), "trusted_device": device},
    )
    assert r.status_code == 200, r.text
    trusted = world.login(world.admin, fingerprint=FINGERPRINT)
    assert "auth_token" in trusted.json(), trusted.text
    assert "mfa_token" in world.login(world.admin, fingerprint="another-" + "x" * 20).json()
    devices = world.client.get("/api/v1/user/my/mfa/trusted_device", headers=h)
    assert devices.status_code == 200
    [listed] = devices.json()
    assert listed["name"] == "build box" and listed["operating_system"] == "Linux"
    assert FINGERPRINT not in devices.text
    gone = world.client.delete(f"/api/v1/user/my/mfa/trusted_device/{listed['id']}", headers=h)
    assert gone.status_code == 204
    assert "mfa_token" in world.login(world.admin, fingerprint=FINGERPRINT).json()


def test_admins_remove_a_lost_key_observers_only_their_own(world: World) -> None:
    key_id, _, obs_h = world.enrol(world.observer)
    admin_h = world.headers(world.admin)
    with world.ctx.sessionmaker() as session:
        observer_id = session.scalar(select(MfaKey.user_id).where(MfaKey.id == key_id))
    assert "mfa_token" in world.login(world.observer).json()
    # The key is looked up under the user named in the path: not the admin's.
    elsewhere = world.client.delete(f"/api/v1/user/{world.admin}/mfa/{key_id}", headers=obs_h)
    assert elsewhere.status_code == 404
    r = world.client.delete(f"/api/v1/user/{observer_id}/mfa/{key_id}", headers=admin_h)
    assert r.status_code == 204, r.text
    assert "auth_token" in world.login(world.observer).json()


def test_observers_cannot_delete_other_users_keys(world: World) -> None:
    key_id, _, _ = world.enrol(world.admin)
    obs_h = world.headers(world.observer)
    r = world.client.delete(f"/api/v1/user/{world.admin}/mfa/{key_id}", headers=obs_h)
    assert r.status_code == 403


def test_another_organisation_sees_nothing(world: World, any_db_settings: Settings) -> None:
    key_id, _, _ = world.enrol(world.admin)
    with transaction(world.ctx.sessionmaker) as session:
        other, stranger = service.create_org_with_admin(
            session=session,
            name=f"other-{secrets.token_hex(3)}",
            admin_email=f"x-{secrets.token_hex(3)}@example.com",
            admin_password=PASSWORD,
        )
        token = service.mint(
            settings=any_db_settings, org_id=other.id, role="admin", user_id=stranger.id
        )
    h = {"Authorization": f"Bearer {token}"}
    assert (
        world.client.delete(f"/api/v1/user/{world.admin}/mfa/{key_id}", headers=h).status_code
        == 404
    )
    assert (
        world.client.get(f"/api/v1/user/{world.admin}/mfa/trusted_device", headers=h).status_code
        == 404
    )


def test_lookups_and_application_tokens(world: World) -> None:
    h = world.headers(world.admin)
    assert world.client.get("/api/v1/user/mfa/type", headers=h).json() == [
        {"id": 1, "description": "TOTP"}
    ]
    statuses = world.client.get("/api/v1/user/mfa/status", headers=h).json()
    assert {s["id"] for s in statuses} == {0, 1}
    token = world.client.post("/api/v1/application_token", json={"description": "t"}, headers=h)
    auth = world.client.post(
        "/api/v1/authenticate", json={"application_token": token.json()["application_token"]}
    )
    app_h = {"Authorization": f"Bearer {auth.json()['auth_token']}"}
    r = world.client.post(
        "/api/v1/user/mfa", json={"type": {"id": 1}, "password": PASSWORD}, headers=app_h
    )
    assert r.status_code == 403


def test_the_provider_resets_a_lost_authenticator_from_the_cli(
    world: World, any_db_settings: Settings
) -> None:
    from typer.testing import CliRunner

    from linkplane.cli import _register, app

    world.enrol(world.admin)
    assert "mfa_token" in world.login(world.admin).json()
    _register()
    env = {"LINKPLANE_DATABASE_URL": any_db_settings.database_url}
    data_dir = ["--data-dir", str(any_db_settings.data_dir)]
    r = CliRunner().invoke(app, ["mfa", "reset", world.admin.upper(), *data_dir], env=env)
    assert r.exit_code == 0, r.output
    assert "removed 1 MFA key" in r.output
    assert "auth_token" in world.login(world.admin).json()
    unknown = CliRunner().invoke(app, ["mfa", "reset", "nobody@example.com", *data_dir], env=env)
    assert unknown.exit_code != 0
