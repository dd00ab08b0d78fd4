"""Portal sign-in with MFA: the code page after the password, wrong codes, and a trusted
browser skipping the code (no browser; see tests/test_portal_auth.py)."""

from __future__ import annotations

import re
import secrets
import time
from types import SimpleNamespace

import pytest

from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.mfa import service as mfa_service
from linkplane.mfa import vault
from linkplane.portal.routes import TRUSTED_COOKIE
from linkplane.portal.sessions import SESSION_COOKIE
from linkplane.tenancy import service
from linkplane.tenancy.principal import Principal, Role
from tests.portal.client import PortalClient
from tests.portal.harness import PASSWORD, Org

_MFA_TOKEN = re.compile(r'name="mfa_token" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(mfa_service, "time", SimpleNamespace(time=fake.time))
    return fake


def _enrolled_user(ctx: AppContext, org: Org, clock: Clock) -> tuple[str, str]:
    """A new admin of ``org`` with an active MFA key; its username and secret."""
    username = f"mfa-{secrets.token_hex(4)}@example.com"
    with transaction(ctx.sessionmaker) as session:
        user = service.create_user(session=session, org_id=org.id, username=username,
                                   name="MFA user", role=Role.ADMIN, password=PASSWORD,
                                   principal=None)  # fmt: skip
        me = Principal(user_id=user.id, org_id=org.id, role=Role.ADMIN)
        new = mfa_service.create_key(session=session, settings=ctx.settings, principal=me,
                                     type_id=1, password=PASSWORD)  # fmt: skip
        mfa_service.activate_key(session=session, settings=ctx.settings, principal=me,
                                 key_id=new.key.id, status_id=1,
                                 code=vault.code_at(new.secret, clock.now))  # fmt: skip
    clock.now += vault.STEP_SECONDS
    return username, new.secret


def _password_step(web: PortalClient, username: str) -> str:
    data = {"csrf_token": web.csrf("/login"), "username": username, "password": PASSWORD}
    page = web.post("/login", data=data, follow_redirects=False)
    assert page.status_code == 200, page.text
    assert "one-time code" in page.text and SESSION_COOKIE not in web.cookies
    match = _MFA_TOKEN.search(page.text)
    assert match
    return match.group(1)


def _code_step(web: PortalClient, mfa_token: str, code: str, **extra: str) -> object:
    data = {"csrf_token": web.csrf("/login"), "mfa_token": mfa_token, "code": code, **extra}
    return web.post("/login/mfa", data=data, follow_redirects=False)


def test_sign_in_asks_for_the_code_after_the_password(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]],
    clock: Clock,
) -> None:  # fmt: skip
    username, secret = _enrolled_user(portal_ctx[0], tenants["acme"], clock)
    mfa_token = _password_step(web, username)
    wrong = _code_step(web, mfa_token, "000000")
    assert wrong.status_code == 401  # type: ignore[attr-defined]
    assert "invalid code" in wrong.text  # type: ignore[attr-defined]
    assert SESSION_COOKIE not in web.cookies
    ok = _code_step(web, mfa_token, vault.code_at(secret, clock.now))
    assert ok.status_code == 303, ok.text  # type: ignore[attr-defined]
    assert web.get("/").status_code == 200
    assert TRUSTED_COOKIE not in web.cookies  # not asked to trust this browser


def test_a_trusted_browser_skips_the_code(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]],
    clock: Clock,
) -> None:  # fmt: skip
    username, secret = _enrolled_user(portal_ctx[0], tenants["acme"], clock)
    mfa_token = _password_step(web, username)
    ok = _code_step(web, mfa_token, vault.code_at(secret, clock.now), trust="true")
    assert ok.status_code == 303  # type: ignore[attr-defined]
    assert TRUSTED_COOKIE in web.cookies
    web.cookies.delete(SESSION_COOKIE)
    web.sign_in(username)  # straight to a session: no code page
    assert web.get("/").status_code == 200


def test_a_forged_mfa_token_goes_back_to_the_password(web: PortalClient) -> None:
    page = _code_step(web, "forged", "123456")
    assert page.status_code == 401  # type: ignore[attr-defined]
    assert "Sign in to linkplane" in page.text  # type: ignore[attr-defined]


def test_users_without_mfa_sign_in_as_before(web: PortalClient, tenants: dict[str, Org]) -> None:
    web.sign_in(tenants["globex"].admin)
    assert web.get("/").status_code == 200
