"""End-to-end breakout tests over real HTTP: uvicorn on a free port, real auth tokens.

Built on the ``stack`` of ``tests/test_breakouts_support.py`` (embedded cloud over HTTP, DBOS
launched once per process): the same app is served by uvicorn without any dependency
override; the tests authenticate with ``POST /api/v1/authenticate`` like an emnify client.
The customer side is plain boto3 acting as the customer's account.

:class:`Ledger` records the accounts, CIDRs and attachments of one test, so its inventory
check (:func:`assert_nothing_left`) looks only at what that test could have created: other
tests' breakouts in the same process may still be working in the background.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from linkplane.db import transaction
from linkplane.localcloud.inventory import Inventory, snapshot
from linkplane.process.app import create_app
from linkplane.tenancy import service as tenancy
from tests.test_breakouts_support import PROVIDER, REGION, Stack

URL = "/api/v1/cnc/breakout"


class _Server:
    """uvicorn in a thread on a socket bound to a free port."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)  # fmt: skip

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)


@dataclass
class Live:
    stack: Stack
    app: FastAPI
    url: str
    http: httpx.Client
    email: str
    password: str

    def create(self, account: str, cidrs: list[str], **extra: Any) -> dict[str, Any]:
        body = {"type": 1, "name": "e2e", "vpc_cidr": cidrs, "region": REGION,
                "aws_account_id": account, **extra}  # fmt: skip
        resp = self.http.post(f"{URL}/tgw", json=body)
        assert resp.status_code == 201, resp.text
        data: dict[str, Any] = resp.json()
        return data

    def get(self, bid: int) -> dict[str, Any]:
        resp = self.http.get(f"{URL}/{bid}")
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()[0]
        return data

    def wait_for(
        self, bid: int, pred: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            data = self.get(bid)
            if pred(data):
                return data
            assert time.monotonic() < end, f"timed out; last state: {data}"
            time.sleep(0.05)

    def status(self, bid: int, status_id: int, timeout: float = 30) -> dict[str, Any]:
        return self.wait_for(bid, lambda d: d["status"]["id"] == status_id, timeout)

    def shared(self, bid: int) -> dict[str, Any]:
        return self.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))

    def wait_for_new(self, account: str, timeout: float = 30) -> int:
        """The id of ``account``'s breakout once someone else (a CLI) has created it."""
        end = time.monotonic() + timeout
        while True:
            rows = self.http.get(URL, params={"per_page": 1000}).json()
            found = [b["id"] for b in rows if b["aws_account_id"] == account]
            if found:
                return int(max(found))
            assert time.monotonic() < end, f"no breakout for {account}"
            time.sleep(0.05)

    def recheck(self, bid: int) -> None:
        self.http.post(f"{URL}/{bid}/recheck")

    @contextmanager
    def settings(self, **changes: Any) -> Iterator[None]:
        """Settings of the API (create/retry) and of the workflows, for one test."""
        rt = self.stack.runtime
        api_before, wf_before = self.app.state.settings, rt.settings
        self.app.state.settings = api_before.model_copy(update=changes)
        rt.settings = wf_before.model_copy(update=changes)
        try:
            yield
        finally:
            self.app.state.settings, rt.settings = api_before, wf_before


@dataclass
class Ledger:
    """What one test touches: its customer accounts, CIDRs and attachments."""

    accounts: set[str] = field(default_factory=set)
    cidrs: set[str] = field(default_factory=set)
    attachments: set[str] = field(default_factory=set)

    def snapshot(self, stack: Stack) -> Inventory:
        inv = snapshot(stack.endpoint_url, [PROVIDER, *sorted(self.accounts)], [REGION])
        return self.mine(inv)

    def mine(self, inv: Inventory) -> Inventory:
        atts = self.attachments | {
            a.id for a in inv.attachments if a.resource_owner_id in self.accounts
        }
        shares = {p.share_arn for p in inv.principal_associations if p.principal in self.accounts}
        return Inventory(
            shares=frozenset(s for s in inv.shares if s.arn in shares),
            principal_associations=frozenset(
                p for p in inv.principal_associations if p.principal in self.accounts
            ),
            attachments=frozenset(a for a in inv.attachments if a.id in atts),
            associations=frozenset(a for a in inv.associations if a.attachment_id in atts),
            propagations=frozenset(p for p in inv.propagations if p.attachment_id in atts),
            routes=frozenset(r for r in inv.routes
                             if r.destination in self.cidrs or set(r.attachment_ids) & atts),
        )  # fmt: skip


def assert_nothing_left(live: Live, ledger: Ledger, before: Inventory) -> None:
    stale = ledger.snapshot(live.stack).beyond(before)
    assert stale.is_empty(), stale.report()


_lives: list[Live] = []


def _signed_in(stack: Stack, url: str) -> tuple[httpx.Client, str, str]:
    """A fresh organisation's admin and an HTTP client authenticated as it."""
    email, password = f"e2e-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    with transaction(stack.ctx.sessionmaker) as session:
        tenancy.create_org_with_admin(session=session, name=f"e2e-{secrets.token_hex(4)}",
                                      admin_email=email, admin_password=password)  # fmt: skip
    http = httpx.Client(base_url=url, timeout=30)
    auth = http.post("/api/v1/authenticate", json={"username": email, "password": password})
    assert auth.status_code == 200, auth.text
    http.headers["Authorization"] = f"Bearer {auth.json()['auth_token']}"
    return http, email, password


def _build(stack: Stack) -> Live:
    app = create_app(stack.settings, stack.ctx.sessionmaker, stack.runtime.client)
    server = _Server(app)
    server.start()
    return Live(stack, app, server.url, *_signed_in(stack, server.url))


def regional_profile(live: Live, region: str) -> int:
    """A new service profile of the organisation whose devices break out in ``region``."""
    r = live.http.post("/api/v1/service_profile",
                       json={"name": f"devices in {region}", "breakout_region": {"name": region}})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def move_profile(live: Live, profile: int, region: str) -> None:
    """Move a service profile's devices to ``region`` (the sweep then reroutes)."""
    r = live.http.patch(f"/api/v1/service_profile/{profile}",
                        json={"breakout_region": {"name": region}})
    assert r.status_code == 204, r.text


def own_organisation(live: Live) -> Live:
    """The served app as the admin of a new organisation of its own: for tests that change
    the organisation's profiles (its devices' regions), which the sweep applies to every
    Active breakout of the organisation, including other modules' leftovers."""
    return Live(live.stack, live.app, live.url, *_signed_in(live.stack, live.url))


@pytest.fixture
def live(stack: Stack) -> Live:
    """One served app per test process, authenticated as the admin of a fresh organisation."""
    if not _lives:
        _lives.append(_build(stack))
    # The stack is rebuilt after another module reset the embedded cloud (a new transit
    # gateway): the served app keeps its database, the customers must use the new gateway.
    _lives[0].stack = stack
    return _lives[0]
