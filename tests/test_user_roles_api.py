"""User operations: role assignment and removal, role permissions, a user's events, and
support tokens (read-only, time-bounded, revocable)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from linkplane.context import AppContext, open_context
from linkplane.db import transaction, utcnow
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.models import ApplicationToken
from linkplane.tenancy.principal import Role

PASSWORD = "correct horse battery"


@dataclass
class Org:
    id: int
    admin_id: int
    observer_id: int
    admin: dict[str, str]
    observer: dict[str, str]


@dataclass
class World:
    client: TestClient
    ctx: AppContext
    acme: Org
    other: Org
    provider: Org


def _org(ctx: AppContext, settings: Settings, *, provider: bool = False) -> Org:
    tag = secrets.token_hex(4)
    with transaction(ctx.sessionmaker) as session:
        org, admin = service.create_org_with_admin(
            session=session, name=f"org-{tag}", admin_email=f"admin-{tag}@example.com",
            admin_password=PASSWORD, is_provider=provider,
        )  # fmt: skip
        obs = service.create_user(
            session=session, org_id=org.id, username=f"obs-{tag}@example.com", name="Obs",
            role=Role.OBSERVER, password=PASSWORD, principal=None,
        )  # fmt: skip
        ids = org.id, admin.id, obs.id

    def bearer(role: str, user_id: int) -> dict[str, str]:
        token = service.mint(settings=settings, org_id=ids[0], role=role, user_id=user_id)
        return {"Authorization": f"Bearer {token}"}

    return Org(*ids, bearer("admin", ids[1]), bearer("observer", ids[2]))


@pytest.fixture
def world(any_db_settings: Settings) -> Iterator[World]:
    ctx = open_context(any_db_settings)
    orgs = [_org(ctx, any_db_settings), _org(ctx, any_db_settings),
            _org(ctx, any_db_settings, provider=True)]  # fmt: skip
    with TestClient(create_app(any_db_settings, ctx.sessionmaker)) as client:
        yield World(client, ctx, *orgs)
    ctx.close()


def test_assigning_a_role_replaces_the_users_one_role(world: World) -> None:
    c, acme = world.client, world.acme
    r = c.put(f"/api/v1/user/{acme.observer_id}/role/1", headers=acme.admin)
    assert r.status_code == 204, r.text
    user = c.get(f"/api/v1/user/{acme.observer_id}", headers=acme.admin).json()
    assert [role["id"] for role in user["roles"]] == [1]
    assert c.put(f"/api/v1/user/{acme.observer_id}/role/1", headers=acme.admin).status_code == 204
    unknown = c.put(f"/api/v1/user/{acme.observer_id}/role/2", headers=acme.admin)
    assert unknown.status_code == 404 and "1 (Administrator)" in unknown.text


def test_the_last_administrator_keeps_the_role(world: World) -> None:
    c, acme = world.client, world.acme
    r = c.put(f"/api/v1/user/{acme.admin_id}/role/3", headers=acme.admin)
    assert r.status_code == 409 and "last active administrator" in r.text
    # With a second administrator, the first may step down.
    assert c.put(f"/api/v1/user/{acme.observer_id}/role/1", headers=acme.admin).status_code == 204
    assert c.put(f"/api/v1/user/{acme.admin_id}/role/3", headers=acme.admin).status_code == 204


def test_a_users_only_role_cannot_be_removed(world: World) -> None:
    c, acme = world.client, world.acme
    r = c.delete(f"/api/v1/user/{acme.observer_id}/role/3", headers=acme.admin)
    assert r.status_code == 409 and "PUT" in r.text
    r = c.delete(f"/api/v1/user/{acme.observer_id}/role/1", headers=acme.admin)
    assert r.status_code == 404


def test_roles_are_changed_by_administrators_of_the_same_organisation_only(world: World) -> None:
    c, acme = world.client, world.acme
    assert c.put(f"/api/v1/user/{acme.observer_id}/role/1",
                 headers=acme.observer).status_code == 403  # fmt: skip
    assert c.put(f"/api/v1/user/{acme.observer_id}/role/1",
                 headers=world.other.admin).status_code == 404  # fmt: skip


def test_role_permissions_follow_the_role(world: World) -> None:
    c, acme = world.client, world.acme
    obs = c.get("/api/v1/user/my/role/permission", headers=acme.observer).json()
    assert obs["role"]["id"] == 3
    assert all(p["actions"] == ["read"] for p in obs["permissions"])
    admin = c.get(f"/api/v1/user/{acme.admin_id}/role/permission", headers=acme.observer).json()
    assert {"resource": "endpoint", "actions": ["read", "write"]} in admin["permissions"]
    assert "support_token" not in str(admin)
    provider = c.get("/api/v1/user/my/role/permission", headers=world.provider.admin).json()
    assert any(p["resource"] == "support_token" for p in provider["permissions"])


def test_a_users_events_are_the_events_about_them(world: World) -> None:
    c, acme = world.client, world.acme
    c.patch(f"/api/v1/user/{acme.observer_id}", json={"name": "Renamed"}, headers=acme.admin)
    events = c.get(f"/api/v1/user/{acme.observer_id}/event", headers=acme.observer)
    assert events.status_code == 200
    descriptions = [e["description"] for e in events.json()]
    assert any("updated" in d for d in descriptions) and any("created" in d for d in descriptions)
    assert not any("admin-" in d for d in descriptions)  # not the admin's own events
    assert c.get(f"/api/v1/user/{acme.observer_id}/event",
                 headers=world.other.admin).status_code == 404  # fmt: skip


def test_a_support_token_reads_the_users_organisation_only(world: World) -> None:
    c, acme, provider = world.client, world.acme, world.provider
    r = c.post(f"/api/v2/user/{acme.observer_id}/support_token", json={"role": "3"},
               headers=provider.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    support = {"Authorization": f"Bearer {r.json()['support_token']}"}
    users = c.get("/api/v1/user", headers=support)
    assert users.status_code == 200 and {u["id"] for u in users.json()} >= {acme.observer_id}
    # Read-only: no change is allowed.
    assert c.post("/api/v1/user", headers=support,
                  json={"username": "x@example.com", "name": "x"}).status_code == 403  # fmt: skip
    # The organisation sees it among its tokens and an event says who created it.
    tokens = c.get("/api/v1/application_token", headers=acme.admin).json()
    [support_row] = [t for t in tokens if "Support access" in t["description"]]
    events = c.get("/api/v1/event", headers=acme.admin).json()
    assert any("support token" in e["description"].lower() for e in events)
    # Its administrators revoke it; it stops working at once.
    revoke = c.patch(f"/api/v1/application_token/{support_row['id']}",
                     json={"status": {"id": 1}}, headers=acme.admin)  # fmt: skip
    assert revoke.status_code == 204
    assert c.get("/api/v1/user", headers=support).status_code == 401


def test_a_support_token_expires(world: World) -> None:
    c, acme = world.client, world.acme
    r = c.post(f"/api/v2/user/{acme.admin_id}/support_token", headers=world.provider.admin)
    support = {"Authorization": f"Bearer {r.json()['support_token']}"}
    assert c.get("/api/v1/user", headers=support).status_code == 200
    with transaction(world.ctx.sessionmaker) as session:
        session.execute(update(ApplicationToken).where(ApplicationToken.org_id == acme.id)
                        .values(expiry_date=utcnow() - timedelta(seconds=1)))  # fmt: skip
    assert c.get("/api/v1/user", headers=support).status_code == 401


def test_support_tokens_are_for_provider_administrators_and_read_only(world: World) -> None:
    c, acme = world.client, world.acme
    path = f"/api/v2/user/{acme.observer_id}/support_token"
    assert c.post(path, headers=acme.admin).status_code == 403
    assert c.post(path, headers=world.other.admin).status_code == 403
    admin_role = c.post(path, json={"role": "1"}, headers=world.provider.admin)
    assert admin_role.status_code == 422 and "read-only" in admin_role.text
    own = c.post(f"/api/v2/user/{world.provider.admin_id}/support_token",
                 headers=world.provider.admin)  # fmt: skip
    assert own.status_code == 403
    missing = c.post("/api/v2/user/987654321/support_token", headers=world.provider.admin)
    assert missing.status_code == 404


def test_a_user_id_beyond_any_id_is_404_not_500(world: World) -> None:
    """SQLite cannot even bind such a number: it used to fail inside the query."""
    huge = "9" * 30
    for path in (
        f"/api/v1/user/{huge}",
        f"/api/v1/user/{huge}/role/permission",
        f"/api/v1/user/{huge}/event",
        f"/api/v1/user/{huge}/mfa/trusted_device",
    ):
        assert world.client.get(path, headers=world.acme.admin).status_code == 404, path
