"""MFA sign-in in headless Chromium: password, then the code page, then the dashboard; a
trusted browser skips the code next time (skipped without Playwright or Chromium)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from linkplane.db import transaction
from linkplane.mfa import service as mfa_service
from linkplane.mfa import vault
from linkplane.tenancy import service
from linkplane.tenancy.principal import Principal, Role
from tests.portal.harness import PASSWORD, LivePortal

pytestmark = pytest.mark.browser


def _enrol(portal: LivePortal) -> tuple[str, str]:
    org = portal.orgs["acme"]
    username = "mfa-browser@acme.example.com"
    with transaction(portal.ctx.sessionmaker) as session:
        user = service.create_user(session=session, org_id=org.id, username=username,
                                   name="MFA browser", role=Role.ADMIN, password=PASSWORD,
                                   principal=None)  # fmt: skip
        me = Principal(user_id=user.id, org_id=org.id, role=Role.ADMIN)
        new = mfa_service.create_key(session=session, settings=portal.ctx.settings,
                                     principal=me, type_id=1, password=PASSWORD)  # fmt: skip
        mfa_service.activate_key(session=session, settings=portal.ctx.settings, principal=me,
                                 key_id=new.key.id, status_id=1,
                                 code=vault.code_at(new.secret, time.time()))  # fmt: skip
    return username, new.secret


def _password(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mail address").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_code_page_then_dashboard_and_a_trusted_browser(live_portal: LivePortal, page: Any) -> None:
    username, secret = _enrol(live_portal)
    _password(page, live_portal.url, username)
    page.get_by_role("heading", name="Enter your one-time code").wait_for()
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Verify").click()
    assert "invalid code" in page.locator("#login-error").inner_text()
    # The activation used this window's code: the next window's is the one still unused.
    page.get_by_label("Code", exact=True).fill(
        vault.code_at(secret, time.time() + vault.STEP_SECONDS)
    )
    page.get_by_label("Trust this browser").check()
    page.get_by_role("button", name="Verify").click()
    page.get_by_role("button", name="Sign out").click()
    _password(page, live_portal.url, username)
    page.get_by_role("button", name="Sign out").wait_for()  # no code page this time
