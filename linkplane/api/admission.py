"""Bounded admission: at most ``limit`` requests run at once, at most ``per_client`` of them
for one client; the rest wait briefly, then get 503 with ``Retry-After``.

Why: handlers and sync dependencies run in a thread pool and each request holds a database
connection from its first query until it answers. Unbounded, a burst of 50 requests parked
every thread waiting for a pool connection that only a parked thread could give back: all
of them waited for the pool timeout (500s after 30 s), ``/health`` got no thread, and
SQLite's write lock stayed with transactions whose next step could not be scheduled
(issue 13, item 1). Admitting no more requests than the API's pool has connections for
(:func:`linkplane.db.api_pool`) keeps every admitted request moving; the others learn
within seconds to come back. The per-client share keeps one client's burst from taking
every slot, so other clients (other tenants) are still served.

A client is its credential (the ``Authorization`` header, else the portal's cookies), else
its address: cheap to read before any handler runs, and what one tenant's script bursts with.
Liveness, readiness, metrics and static files bypass admission (they use no request
session), so a saturated API still says it is alive.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter

from starlette.types import ASGIApp, Receive, Scope, Send

from linkplane.api.errors import error_body

#: Paths that never wait: liveness, readiness, metrics.
EXEMPT = frozenset({"/health", "/ready", "/metrics", "/api/v1/health"})
#: Path prefixes that never wait: the portal's static files.
EXEMPT_PREFIXES = ("/static/",)


class Admission:
    """Pure ASGI middleware; its state belongs to the one event loop of its server."""

    def __init__(self, app: ASGIApp, *, limit: int, per_client: int, wait_seconds: float,
                 retry_after_seconds: int) -> None:  # fmt: skip
        self.app = app
        self.limit = limit
        self.per_client = max(1, min(per_client, limit))
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after_seconds
        self._active = 0
        self._by_client: Counter[bytes] = Counter()
        self._changed = asyncio.Condition()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _exempt(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        if not await self._enter(client):
            await self._reject(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self._leave(client)

    def _has_room(self, client: bytes) -> bool:
        return self._active < self.limit and self._by_client[client] < self.per_client

    async def _enter(self, client: bytes) -> bool:
        async with self._changed:
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await self._changed.wait_for(lambda: self._has_room(client))
            except TimeoutError:
                return False
            self._active += 1
            self._by_client[client] += 1
        return True

    async def _leave(self, client: bytes) -> None:
        async with self._changed:
            self._active -= 1
            self._by_client[client] -= 1
            if self._by_client[client] <= 0:
                del self._by_client[client]
            self._changed.notify_all()

    async def _reject(self, send: Send) -> None:
        message = (
            f"the server is busy (at most {self.limit} requests at once, {self.per_client} "
            f"per client); retry after {self.retry_after} s"
        )
        body = json.dumps(
            error_body(503, message, "busy", [{"field": "request", "message": message}])
        ).encode()
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(self.retry_after).encode()),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def client_key(scope: Scope) -> bytes:
    """Who is asking: a digest of the credential (never kept in clear), else the address."""
    headers = dict(scope.get("headers") or [])
    credential = headers.get(b"authorization") or headers.get(b"cookie")
    if credential:
        return hashlib.blake2b(credential, digest_size=16).digest()
    host = (scope.get("client") or ("", 0))[0]
    return b"addr:" + str(host).encode()


def _exempt(path: str) -> bool:
    return path in EXEMPT or path.startswith(EXEMPT_PREFIXES)
