"""Tenancy and events routes in the isolation harness."""

from __future__ import annotations

from typing import Any

from tests.api_harness import Harness, lookup, provider_only, public, resource

public("/api/v1/authenticate", "/api/v1/health")
lookup(
    "/api/v1/organisation/my",
    "/api/v1/user/role",
    "/api/v1/user/status",
    "/api/v1/event/type",
    "/api/v1/event_type",
)
provider_only(
    "/api/v1/organisation",
    "/api/v1/organisation/{org_id}",
    "/api/v2/user/{user_id}/support_token",
    bodies={"POST /api/v1/organisation": lambda h: {"name": h.unique("org")}},
)


@resource(
    "/api/v1/user",
    "/api/v1/user/{user_id}",
    bodies={
        "POST /api/v1/user": lambda h: {"username": h.email(), "name": "new user"},
        "PATCH /api/v1/user/{user_id}": {"name": "renamed", "status": {"id": 2}},
    },
)
def user(h: Harness) -> dict[str, Any]:
    body = {
        "username": h.email(),
        "name": h.unique("user"),
        "roles": [{"id": 3}],
        "password": "sample-password-1",
    }
    r = h.client.post("/api/v1/user", json=body, headers=h.owner.admin)
    return {"user_id": h.location_id(r)}


@resource(
    "/api/v1/user/{user_id}/role/permission",
    "/api/v1/user/{user_id}/role/{role_id}",
    "/api/v1/user/{user_id}/event",
)
def user_role(h: Harness) -> dict[str, Any]:
    """An observer of the owner: its role (3) is what PUT and DELETE name."""
    return {**user(h), "role_id": 3}


@resource(
    "/api/v1/application_token",
    "/api/v1/application_token/{app_token_id}",
    bodies={
        "POST /api/v1/application_token": {"description": "harness"},
        "PATCH /api/v1/application_token/{app_token_id}": {"status": {"id": 1}},
    },
)
def application_token(h: Harness) -> dict[str, Any]:
    r = h.client.post(
        "/api/v1/application_token", json={"description": h.unique("tok")}, headers=h.owner.admin
    )
    return {"app_token_id": h.location_id(r)}


@resource("/api/v1/event")
def event(h: Harness) -> dict[str, Any]:
    # Creating a user records an event whose description names it (with the marker).
    user(h)
    return {}
