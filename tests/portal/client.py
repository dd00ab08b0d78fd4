"""In-process portal clients (no browser): a TestClient that can sign in and post forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from linkplane.context import AppContext, open_context
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.portal.harness import PASSWORD, Org, seed_org

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class PortalClient(TestClient):
    def csrf(self, path: str) -> str:
        """The CSRF token of the first form on ``path``."""
        page = self.get(path)
        match = _CSRF.search(page.text)
        assert match, f"no form on {path}: {page.status_code}"
        return match.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        data = {"csrf_token": self.csrf("/login"), "username": username, "password": password}
        response = self.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 303, response.text

    def submit(self, path: str, form_page: str, **data: str) -> object:
        """POST ``data`` to ``path`` with the CSRF token rendered on ``form_page``."""
        return self.post(path, data={"csrf_token": self.csrf(form_page), **data},
                         follow_redirects=False)  # fmt: skip


@pytest.fixture(scope="module")
def portal_ctx(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[AppContext, dict[str, Org]]]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("portal-inproc")))
    ctx = open_context(settings)
    orgs = {name: seed_org(ctx, name) for name in ("acme", "globex")}
    yield ctx, orgs
    ctx.close()


@pytest.fixture
def web(portal_ctx: tuple[AppContext, dict[str, Org]]) -> Iterator[PortalClient]:
    ctx, _ = portal_ctx
    with PortalClient(create_app(ctx.settings, ctx.sessionmaker)) as test_client:
        yield test_client


@pytest.fixture
def tenants(portal_ctx: tuple[AppContext, dict[str, Org]]) -> dict[str, Org]:
    return portal_ctx[1]
