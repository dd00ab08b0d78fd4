"""Bounded admission (linkplane.api.admission): the limits, the per-client share, the 503.

In-process, with a handler that holds its slot until released, so nothing depends on time
beyond the middleware's own (short) queue wait.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Receive, Scope, Send

from linkplane.api.admission import Admission


class Held:
    """An ASGI app whose requests answer 200 only when :attr:`release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Admission, path: str = "/api/v1/endpoint", token: str = "a") -> dict[str, Any]:
    scope = {"type": "http", "path": path, "client": ("127.0.0.1", 1),
             "headers": [(b"authorization", f"Bearer {token}".encode())]}  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent
    return {"status": start["status"], "headers": dict(start["headers"]), "body": body["body"]}


def admission(inner: Held, *, limit: int = 4, per_client: int = 2) -> Admission:
    return Admission(inner, limit=limit, per_client=per_client, wait_seconds=0.2,
                     retry_after_seconds=3)  # fmt: skip


def test_beyond_the_limit_a_request_gets_503_with_retry_after_and_a_reason() -> None:
    async def scenario() -> list[dict[str, Any]]:
        inner = Held()
        app = admission(inner, limit=2, per_client=2)
        held = [asyncio.create_task(call(app)) for _ in range(2)]
        await asyncio.sleep(0)
        refused = await call(app, token="b")
        inner.release.set()
        return [refused, *await asyncio.gather(*held)]

    refused, *served = asyncio.run(scenario())
    assert [r["status"] for r in served] == [200, 200]
    assert refused["status"] == 503
    assert refused["headers"][b"retry-after"] == b"3"
    body = json.loads(refused["body"])
    assert body["error_token"] == "busy" and "retry after 3 s" in body["message"]


def test_one_client_cannot_take_every_slot() -> None:
    async def scenario() -> tuple[list[int], int, int]:
        inner = Held()
        app = admission(inner, limit=4, per_client=2)
        burst = [asyncio.create_task(call(app, token="a")) for _ in range(6)]
        other = asyncio.create_task(call(app, token="b"))
        # Tasks run in creation order: the first two take client a's share, the other
        # four wait for it and are refused after the wait (10 s: a bound, not a timing).
        await asyncio.wait(burst[2:], timeout=10)
        running = inner.running  # 2 of client a, 1 of client b
        inner.release.set()
        return [r["status"] for r in await asyncio.gather(*burst)], (await other)["status"], running

    burst, other, running = asyncio.run(scenario())
    assert other == 200
    assert running == 3
    assert sorted(burst) == [200, 200, 503, 503, 503, 503]


def test_a_waiting_request_is_admitted_when_a_slot_frees() -> None:
    async def scenario() -> list[int]:
        inner = Held()
        app = Admission(inner, limit=1, per_client=1, wait_seconds=30, retry_after_seconds=1)
        first = asyncio.create_task(call(app))
        second = asyncio.create_task(call(app))
        await asyncio.sleep(0.05)
        assert inner.running == 1
        inner.release.set()
        return [r["status"] for r in await asyncio.gather(first, second)]

    assert asyncio.run(scenario()) == [200, 200]


def test_liveness_and_operations_never_wait() -> None:
    async def scenario() -> list[int]:
        inner = Held()
        app = admission(inner, limit=1, per_client=1)
        held = asyncio.create_task(call(app))
        await asyncio.sleep(0)
        inner.release.set()  # the exempt calls below complete; the held one too
        statuses = [(await call(app, path))["status"]
                    for path in ("/health", "/ready", "/metrics", "/api/v1/health")]  # fmt: skip
        await held
        return statuses

    assert asyncio.run(scenario()) == [200, 200, 200, 200]
