"""Shared fixtures of the fleet tests (endpoints, SIMs, profiles, addressing).

Requests choose who they are with the ``X-Test-As: <org name>:<admin|observer>`` header;
``get_principal`` is overridden, so these tests do not depend on token mechanics (the
isolation harness in tests/api_resources/fleet.py covers real tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from linkplane.api.deps import get_principal
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.devices.seed import seed_demo_fleet
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.sims import importer
from linkplane.sims import service as sims
from linkplane.tenancy.models import Organisation
from linkplane.tenancy.principal import Principal, Role

ORGS = ("acme", "globex")


def make_org(factory: sessionmaker[Session], name: str, *, seed: bool = True) -> int:
    with transaction(factory) as session:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
        if seed:
            seed_demo_fleet(session=session, org_id=org.id)
        return org.id


def iccid(n: int) -> str:
    return f"8988303{n:012d}"


def sim_rows(start: int, count: int, bic: str) -> str:
    lines = ["iccid,imsi,msisdn,bic"]
    for n in range(start, start + count):
        lines.append(f"{iccid(n)},90143{n:010d},88{n:09d},{bic}")
    return "\n".join(lines) + "\n"


def import_sims(factory: sessionmaker[Session], org_id: int, text: str) -> None:
    with transaction(factory) as session:
        sims.import_rows(session=session, org_id=org_id, rows=importer.parse(text))


@dataclass
class Fleet:
    client: TestClient
    ctx: AppContext
    orgs: dict[str, int]

    def as_(self, org: str, role: str = "admin") -> dict[str, str]:
        return {"X-Test-As": f"{org}:{role}"}

    def get(self, path: str, org: str = "acme", role: str = "admin", **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(org, role), **kw)

    def post(self, path: str, body: Any = None, org: str = "acme", role: str = "admin") -> Any:
        return self.client.post(path, json=body, headers=self.as_(org, role))

    def patch(self, path: str, body: Any, org: str = "acme", role: str = "admin") -> Any:
        return self.client.patch(path, json=body, headers=self.as_(org, role))

    def put(self, path: str, org: str = "acme", role: str = "admin") -> Any:
        return self.client.put(path, headers=self.as_(org, role))

    def delete(self, path: str, org: str = "acme", role: str = "admin") -> Any:
        return self.client.delete(path, headers=self.as_(org, role))

    def profiles(self, org: str = "acme") -> tuple[int, int]:
        sp = self.get("/api/v1/service_profile", org).json()[0]["id"]
        tp = self.get("/api/v1/tariff_profile", org).json()[0]["id"]
        return sp, tp

    def new_endpoint(self, org: str = "acme", **extra: Any) -> Any:
        sp, tp = self.profiles(org)
        body = {"name": "dev", "status": {"id": 0}, "service_profile": {"id": sp},
                "tariff_profile": {"id": tp}, **extra}  # fmt: skip
        return self.post("/api/v1/endpoint", body, org)

    def register(self, org: str, bic: str, status: int = 0) -> Any:
        return self.patch(f"/api/v1/sim_batch/bic/{bic}", {"sim_status": {"id": status}}, org)


def build_fleet(ctx: AppContext, suffix: str = "") -> Iterator[Fleet]:
    """``suffix`` makes the organisations' names unique (a PostgreSQL database is shared by
    the whole test session); requests still name them ``acme`` and ``globex``."""
    orgs = {name: make_org(ctx.sessionmaker, name + suffix) for name in ORGS}
    app = create_app(ctx.settings, ctx.sessionmaker)

    def as_header(request: Request) -> Principal:
        org, _, role = request.headers.get("X-Test-As", "acme:admin").partition(":")
        return Principal(user_id=1, org_id=orgs[org], role=Role(role or "admin"))

    app.dependency_overrides[get_principal] = as_header
    with TestClient(app) as client:
        yield Fleet(client=client, ctx=ctx, orgs=orgs)


@pytest.fixture
def fleet(ctx: AppContext) -> Iterator[Fleet]:
    yield from build_fleet(ctx)


@pytest.fixture
def any_db_fleet(any_db_settings: Settings) -> Iterator[Fleet]:
    """The fleet on SQLite, then on PostgreSQL (skipped when not configured)."""
    import secrets

    from linkplane.context import open_context

    ctx = open_context(any_db_settings)
    try:
        yield from build_fleet(ctx, suffix=f"-{secrets.token_hex(3)}")
    finally:
        ctx.close()


__all__ = ["Fleet", "Settings", "any_db_fleet", "build_fleet", "fleet", "import_sims", "make_org",
           "sim_rows"]
