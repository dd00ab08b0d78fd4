"""GET /api/v1/event: the audit trail, its filters, sort and paging (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from linkplane.context import open_context
from linkplane.db import transaction
from linkplane.events.service import record
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service

World = tuple[TestClient, dict[str, str], int]


@pytest.fixture
def client_and_headers(
    any_db_settings: Settings,
) -> Iterator[World]:
    ctx = open_context(any_db_settings)
    with transaction(ctx.sessionmaker) as session:
        org, admin = service.create_org_with_admin(
            session=session,
            name=f"ev-{secrets.token_hex(4)}",
            admin_email=f"{secrets.token_hex(4)}@ev.example.com",
            admin_password="password-1",
        )
        ids = org.id, admin.id
        record(
            session=session,
            org_id=org.id,
            event_type="Breakout state changed",
            description="breakout 7 failed",
            actor="workflow",
            severity=2,
            entity_type="breakout",
            entity_id=7,
            detail={"from": 2, "to": 8},
        )
        record(
            session=session,
            org_id=org.id,
            event_type="Something new",
            description="not in the catalogue",
            actor="system",
        )
    token = service.mint(settings=any_db_settings, org_id=ids[0], role="admin", user_id=ids[1])
    with TestClient(create_app(any_db_settings, ctx.sessionmaker)) as client:
        yield client, {"Authorization": f"Bearer {token}"}, ids[1]
    ctx.close()


def test_event_list_shows_who_changed_what(client_and_headers: World) -> None:
    client, headers, admin_id = client_and_headers
    r = client.post(
        "/api/v1/user", json={"username": "new@ev.example.com", "name": "New"}, headers=headers
    )
    assert r.status_code == 201
    events = client.get("/api/v1/event", headers=headers)
    assert events.status_code == 200 and events.headers["X-Total-Count"] == "5"
    newest = events.json()[0]
    assert newest["event_type"] == {"id": 5, "description": "User created"}
    assert newest["user"]["id"] == admin_id and newest["actor"] == f"user:{admin_id}"
    assert newest["event_source"] == {"id": 2, "description": "API"}
    assert newest["entity_type"] == "user" and "new@ev.example.com" in newest["description"]
    types = client.get("/api/v1/event/type", headers=headers).json()
    assert {"id": 1, "description": "Generic"} in types
    assert client.get("/api/v1/event_type", headers=headers).json() == types


def test_event_filters_sort_and_paging(client_and_headers: World) -> None:
    client, headers, _ = client_and_headers

    def get(query: str) -> list[dict[str, object]]:
        r = client.get(f"/api/v1/event?{query}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    crit = get("q=severity:2")
    assert [e["description"] for e in crit] == ["breakout 7 failed"]
    assert crit[0]["alert"] is True and crit[0]["detail"] == {"from": 2, "to": 8}
    assert "user" not in crit[0]  # omitted, not null: emnify declares it an object
    assert [e["description"] for e in get("q=type:1")] == ["not in the catalogue"]
    assert len(get("q=type:27|4")) == 2  # breakout state changed | organisation created
    assert len(get("q=description:BREAKOUT")) == 1
    assert len(get("q=from:2000-01-01T00:00:00Z,until:2999-01-01T00:00:00Z")) == 4
    ids = [e["id"] for e in get("sort=id")]
    assert ids == sorted(ids)
    page = client.get("/api/v1/event?per_page=3&page=2", headers=headers)
    assert len(page.json()) == 1 and page.headers["X-Total-Pages"] == "2"
    for query, field in [
        ("q=from:2000-01-01T00:00:00Z", "q.from"),
        ("q=severity:high", "q.severity"),
        ("q=iccid:123", "q.iccid"),
        ("q=from:yesterday,until:today", "q.from"),
        ("sort=detail", "sort"),
        ("per_page=5000", "per_page"),
    ]:
        r = client.get(f"/api/v1/event?{query}", headers=headers)
        assert r.status_code == 422, (query, r.text)
        assert r.json()["errors"][0]["field"] == field, (query, r.json())
