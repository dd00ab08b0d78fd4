"""The portal under test: a live server on 127.0.0.1 and a headless Chromium driving it.

Import the fixtures into a test module (``from tests.portal.harness import ...``). Browser
tests skip with the reason when Playwright or a Chromium executable is missing; CI points
``LINKPLANE_TEST_CHROMIUM`` at Debian's chromium. Each browser test leaves a screenshot of
its last page in ``artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy.principal import Role

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass
class Org:
    id: int
    admin: str
    observer: str


@dataclass
class LivePortal:
    url: str
    ctx: AppContext
    orgs: dict[str, Org] = field(default_factory=dict)


def seed_org(ctx: AppContext, name: str) -> Org:
    """An organisation with an admin and a read-only observer, both with ``PASSWORD``."""
    from linkplane.tenancy.service import create_org_with_admin, create_user

    admin, observer = f"admin@{name}.example.com", f"observer@{name}.example.com"
    with transaction(ctx.sessionmaker) as session:
        org, _ = create_org_with_admin(
            session=session, name=name, admin_email=admin, admin_password=PASSWORD
        )
        create_user(
            session=session, org_id=org.id, username=observer, name="Observer",
            role=Role.OBSERVER, password=PASSWORD, principal=None,
        )  # fmt: skip
        return Org(id=org.id, admin=admin, observer=observer)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own handlers
        pass


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on a free 127.0.0.1 port in a thread; returns its URL and a stopper."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("portal test server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


def make_portal(tmp: Path, **overrides: Any) -> tuple[LivePortal, Callable[[], None]]:
    settings = Settings(data_dir=tmp, **overrides)
    ctx = open_context(settings)
    portal = LivePortal(url="", ctx=ctx)
    portal.orgs = {name: seed_org(ctx, name) for name in ("acme", "globex")}
    portal.url, stop = serve(create_app(settings, ctx.sessionmaker))

    def close() -> None:
        stop()
        ctx.close()

    return portal, close


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    """A portal with two organisations (``acme``, ``globex``), shared by a module's tests."""
    portal, close = make_portal(tmp_path_factory.mktemp("portal"))
    yield portal
    close()


# --- the browser ---------------------------------------------------------------------------


def chromium_path() -> str | None:
    configured = os.environ.get("LINKPLANE_TEST_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main
# thread while it lives, and DBOS refuses its sync calls then ("register_queue() was called
# while an event loop is running"): a later module launching a durable runtime failed.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: install Debian's chromium or set LINKPLANE_TEST_CHROMIUM")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # Playwright raises its own Error type for every failure
            pytest.skip(f"Chromium at {executable} does not start: {exc}")
        yield chromium
        chromium.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]) + ".png"


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose last page is saved as a screenshot."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        tab.screenshot(path=str(ARTIFACTS / _artifact_name(request.node.nodeid)), full_page=True)
    finally:
        context.close()


def sign_in(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("E-mail address").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()
