"""Tenant isolation and roles, proven for every route of the app (see tests/api_harness.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from linkplane.context import open_context
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.api_harness import (
    Declaration,
    Harness,
    api_routes,
    build,
    check_route,
    fill,
    load_declarations,
)

DECLARED = load_declarations()


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None)  # type: ignore[arg-type]
    found = {(m, path) for path, methods in api_routes(app.routes) for m in methods}
    return sorted(
        found - {(m, p) for m, p in found if m in ("HEAD", "OPTIONS")},
        key=lambda mt: (mt[1], mt[0]),
    )


ROUTES = _routes()
GETS = {template for method, template in ROUTES if method == "GET"}


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("isolation"))
    ctx = open_context(settings)
    with TestClient(create_app(settings, ctx.sessionmaker)) as client:
        yield build(client, settings, ctx.sessionmaker)
    ctx.close()


def test_every_route_is_declared() -> None:
    missing = [f"{m} {t}" for m, t in ROUTES if t not in DECLARED]
    assert not missing, (
        "routes without a declaration in tests/api_resources/ (see tests/api_harness.py): "
        + ", ".join(missing)
    )


CHECKED = [(m, t) for m, t in ROUTES if t in DECLARED and DECLARED[t].kind != "public"]


@pytest.mark.parametrize(("method", "template"), CHECKED, ids=[f"{m} {t}" for m, t in CHECKED])
def test_route_isolation(h: Harness, method: str, template: str) -> None:
    check_route(h, DECLARED[template], method, template, GETS)


def test_harness_catches_a_leaky_route(tmp_path: Path) -> None:
    """The harness itself fails on a route that forgets the tenancy scope."""
    from sqlalchemy import select

    from linkplane.api.deps import PrincipalDep, SessionDep
    from linkplane.tenancy.models import User

    settings = Settings(data_dir=tmp_path)
    ctx = open_context(settings)
    app = create_app(settings, ctx.sessionmaker)

    @app.get("/api/v1/leak/{user_id}")
    def leak(user_id: int, _p: PrincipalDep, session: SessionDep) -> dict[str, str]:
        user = session.scalar(select(User).where(User.id == user_id))  # no scoped(): the bug
        return {"username": user.username if user else ""}

    app.router.routes.insert(0, app.router.routes.pop())  # before the portal's catch-all mount

    decl = Declaration(
        "leak", ("/api/v1/leak/{user_id}",), "resource", lambda h: {"user_id": h.owner.admin_id}
    )
    with TestClient(app) as client:
        harness = build(client, settings, ctx.sessionmaker)
        with pytest.raises(AssertionError, match="other tenant"):
            check_route(harness, decl, "GET", "/api/v1/leak/{user_id}", {"/api/v1/leak/{user_id}"})
    ctx.close()


def test_unauthenticated_requests_get_401(h: Harness) -> None:
    for method, template in CHECKED:
        path, _ = fill(template, {})
        r = h.client.request(method, path, headers={"Authorization": "Bearer None"})
        assert r.status_code == 401, f"{method} {template}: {r.status_code}"
        assert r.json()["error_code"] == 401
