"""SIM migration between organisations (POST /api/v1/sim/migration/workspace): dry run by
default, all-or-nothing requirements, detach and suspend on the move, provider admins only
across organisations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from linkplane.api.deps import get_principal
from linkplane.context import AppContext
from linkplane.process.app import create_app
from linkplane.tenancy.principal import Principal, Role
from tests.test_devices_support import Fleet, iccid, import_sims, make_org, sim_rows

PATH = "/api/v1/sim/migration/workspace"


@pytest.fixture
def fleet(ctx: AppContext) -> Iterator[Fleet]:
    """acme and globex with fleets; ``provider:admin`` is a provider administrator and
    ``acme:token`` an application token of acme."""
    orgs = {name: make_org(ctx.sessionmaker, name) for name in ("acme", "globex", "provider")}
    app = create_app(ctx.settings, ctx.sessionmaker)

    def as_header(request: Request) -> Principal:
        org, _, role = request.headers.get("X-Test-As", "acme:admin").partition(":")
        if role == "token":
            return Principal(user_id=None, org_id=orgs[org], role=Role.ADMIN, token_id=1)
        return Principal(user_id=1, org_id=orgs[org], role=Role(role),
                         provider_admin=org == "provider" and role == "admin")  # fmt: skip

    app.dependency_overrides[get_principal] = as_header
    with TestClient(app) as client:
        f = Fleet(client=client, ctx=ctx, orgs=orgs)
        import_sims(ctx.sessionmaker, orgs["acme"], sim_rows(1, 4, "B1"))
        f.register("acme", "B1", status=1)  # four Activated SIMs
        yield f


def _sim_ids(fleet: Fleet, org: str) -> list[int]:
    return [s["id"] for s in fleet.get("/api/v1/sim", org).json()]


def _body(fleet: Fleet, **extra: Any) -> dict[str, Any]:
    return {"target_workspace": {"id": fleet.orgs["globex"]}, **extra}


def test_a_dry_run_shows_what_would_move_and_changes_nothing(fleet: Fleet) -> None:
    ids = _sim_ids(fleet, "acme")
    r = fleet.post(PATH, _body(fleet, sims=[{"id": i} for i in ids[:2]]), org="provider")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and body["sim_count"] == 2
    assert body["target_workspace"] == {"id": fleet.orgs["globex"], "name": "globex"}
    assert body["sims"][0]["source_workspace"]["name"] == "acme"
    assert body["sims"][0]["status"] == {"id": 1, "description": "Activated"}
    assert _sim_ids(fleet, "acme") == ids


def test_migration_moves_suspends_and_detaches(fleet: Fleet) -> None:
    ids = _sim_ids(fleet, "acme")
    endpoint = fleet.new_endpoint("acme", sim={"id": ids[0]}).json()["id"]
    attached = fleet.post(PATH, _body(fleet, iccids=[iccid(1), iccid(2)], dry_run=False),
                          org="provider")  # fmt: skip
    assert attached.status_code == 409 and "auto_detach_devices" in attached.text
    assert _sim_ids(fleet, "acme") == ids  # all or nothing
    both = {"start": iccid(1), "end": iccid(2)}
    r = fleet.post(PATH, _body(fleet, iccid_range=both, dry_run=False, auto_detach_devices=True),
                   org="provider")  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["sims"][0]["endpoint"]["id"] == endpoint
    assert _sim_ids(fleet, "acme") == ids[2:]
    moved = fleet.get("/api/v1/sim", "globex").json()
    assert [s["id"] for s in moved] == ids[:2]
    assert {s["status"]["id"] for s in moved} == {2}  # Suspended on the move
    assert fleet.get(f"/api/v1/endpoint/{endpoint}", "acme").json().get("sim") is None
    events = fleet.get("/api/v1/event", "globex").json()
    assert any("migrated from acme to globex" in e["description"] for e in events)


def test_disallowed_statuses_are_refused(fleet: Fleet) -> None:
    r = fleet.post(PATH, _body(fleet, iccids=[iccid(3)], allowed_sim_statuses=[{"id": 2}]),
                   org="provider")  # fmt: skip
    assert r.status_code == 409 and "1503" in r.text


def test_malformed_requests_are_400(fleet: Fleet) -> None:
    both = _body(fleet, iccids=[iccid(1)], sims=[{"id": 1}])
    assert fleet.post(PATH, both, org="provider").status_code == 400
    assert fleet.post(PATH, _body(fleet), org="provider").status_code == 400
    short = fleet.post(PATH, _body(fleet, iccids=["123"]), org="provider")
    assert short.status_code == 400 and "19 digits" in short.text
    backwards = _body(fleet, iccid_range={"start": iccid(3), "end": iccid(1)})
    assert fleet.post(PATH, backwards, org="provider").status_code == 400
    many = _body(fleet, iccid_range={"start": iccid(1), "end": iccid(501)})
    assert "at most 500" in fleet.post(PATH, many, org="provider").text


def test_ordinary_admins_and_tokens_cannot_reach_another_organisation(fleet: Fleet) -> None:
    ids = _sim_ids(fleet, "acme")
    body = _body(fleet, sims=[{"id": ids[0]}], dry_run=False)
    assert fleet.post(PATH, body, org="acme").status_code == 404  # globex is not theirs
    # globex's admin cannot take acme's SIMs into globex.
    assert fleet.post(PATH, body, org="globex").status_code == 404
    assert fleet.post(PATH, body, org="acme", role="observer").status_code == 403
    assert fleet.post(PATH, body, org="acme", role="token").status_code == 403
    assert _sim_ids(fleet, "acme") == ids
    missing = _body(fleet, sims=[{"id": 987654321}])
    assert fleet.post(PATH, missing, org="provider").status_code == 404


def test_ids_beyond_32_bits_are_refused_naming_the_field(fleet: Fleet) -> None:
    r = fleet.post(PATH, {"target_workspace": {"id": 10**20}, "sims": [{"id": 1}]},
                   org="provider")  # fmt: skip
    assert r.status_code == 422 and "target_workspace.id" in r.text
    r = fleet.post(PATH, _body(fleet, sims=[{"id": 10**20}]), org="provider")
    assert r.status_code == 422 and "sims[0].id" in r.text
