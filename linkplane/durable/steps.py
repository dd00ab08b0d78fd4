"""Workflow steps: AWS calls, database changes and hooks as checkpointed steps (one each, or
a :func:`compound` of calls and changes that follow each other without a wait).

Steps are async so a workflow never holds a thread between steps: the blocking boto3 or
SQLAlchemy call runs in a worker thread only while it is in flight.

Retrying, one layer per kind of failure:

- AWS: the adapter owns it, per call (:class:`~linkplane.cloud.retry.RetryPolicy`, the
  ``aws_*`` settings: full-jitter backoff on retryable errors, ``aws_max_attempts`` tries);
  the step does not retry a :class:`~linkplane.cloud.errors.CloudError` again. An error that
  outlived the adapter's attempts, or a permanent one, goes to the workflow at once, which
  then runs its compensations. Before, the adapter's 8 attempts ran inside the step's 6 (up
  to 48). The adapter rather than the step, because a step may make several calls (ensure a
  share: look it up, then create it; accept: describe, then accept): retrying the step
  repeats calls that succeeded and makes them share one budget, where per-call attempts
  retry only the call that failed. The same policy then serves every caller (CLI, bootstrap,
  audit, watcher). Its backoff sleeps in a step's pool thread, which is bounded (32) and
  where the client-side rate limiter already waits for tokens: a throttling storm slows the
  steps down instead of growing threads.
- Database: DBOS retries the step (``breakout_step_*``) on a lock, a lost connection or an
  exhausted pool, which pass; anything else is a bug and fails the step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from dbos import DBOS
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from linkplane.cloud.port import CloudPort
from linkplane.db import transaction
from linkplane.durable.runtime import Runtime
from linkplane.ops import metrics

T = TypeVar("T")


async def _in_thread(rt: Runtime, fn: Callable[[], T]) -> T:
    """``fn`` in a pool thread. While the runtime stops, the pool refuses new work: the step
    is then cancelled, not failed, so DBOS records nothing and the workflow stays pending
    for the next executor, instead of ending in ERROR for a reason that was not its own."""
    if rt.stopping:
        raise asyncio.CancelledError("the durable runtime is stopping")
    try:
        return await asyncio.to_thread(fn)
    except RuntimeError:
        if rt.stopping:  # "cannot schedule new futures after shutdown"
            raise asyncio.CancelledError("the durable runtime is stopping") from None
        raise


def _transient_db(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _db_options(rt: Runtime, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "retries_allowed": True,
        "interval_seconds": rt.settings.breakout_step_retry_seconds,
        "max_attempts": rt.settings.breakout_step_max_attempts,
        "backoff_rate": 2.0,
        "should_retry": _transient_db,
    }


async def cloud(rt: Runtime, name: str, region: str, call: Callable[[CloudPort], T]) -> T:
    """Run ``call`` against the region's cloud port as one checkpointed step (its AWS calls
    retry in the adapter; the step does not retry them again)."""

    async def run() -> T:
        return await _in_thread(rt, lambda: call(rt.clouds(region)))

    result: T = await DBOS.run_step_async({"name": name}, metrics.timed_step(name, run))
    return result


async def cloud_now(
    rt: Runtime, name: str, region: str, call: Callable[[CloudPort], T]
) -> tuple[T, float]:
    """Like :func:`cloud`, also returning the wall clock of the call.

    Waits decide on deadlines with this recorded time, so a replay decides the same way.
    """

    def timed(port: CloudPort) -> tuple[T, float]:
        return call(port), time.time()

    return await cloud(rt, name, region, timed)


async def db(rt: Runtime, name: str, change: Callable[[Session], T]) -> T:
    """Run ``change`` in one application-database transaction, as a checkpointed step."""

    def work() -> T:
        with transaction(rt.sessions) as session:
            return change(session)

    async def run() -> T:
        return await _in_thread(rt, work)

    result: T = await DBOS.run_step_async(_db_options(rt, name), metrics.timed_step(name, run))
    return result


class Work:
    """What the body of a :func:`compound` step is given: the region's cloud port, and
    :meth:`db` for one application-database transaction (committed when it returns)."""

    def __init__(self, rt: Runtime, region: str) -> None:
        self._rt, self.region = rt, region
        self.cloud: CloudPort = rt.clouds(region)

    def db(self, change: Callable[[Session], T]) -> T:
        with transaction(self._rt.sessions) as session:
            return change(session)


async def compound(rt: Runtime, name: str, region: str, body: Callable[[Work], T]) -> T:
    """AWS calls and database transactions that follow each other with no wait between
    them, as one checkpointed step: one system-database write instead of one per part.

    A crash before the checkpoint, or a transient database error (retried as :func:`db`
    does), runs the whole body again, so every part must be idempotent: AWS calls by their
    adapters (a resource already there is success), records by checking what the row holds.
    An AWS error is not retried again here (the adapter did), as in :func:`cloud`.
    """

    def work() -> T:
        return body(Work(rt, region))

    async def run() -> T:
        return await _in_thread(rt, work)

    result: T = await DBOS.run_step_async(_db_options(rt, name), metrics.timed_step(name, run))
    return result


async def read(rt: Runtime, name: str, fn: Callable[[], T]) -> T:
    """Run ``fn`` in a pool thread as one checkpointed step, retried on transient database
    errors like :func:`db`; ``fn`` opens its own sessions (reads that must not share one
    transaction) and only its result is recorded."""

    async def run() -> T:
        return await _in_thread(rt, fn)

    result: T = await DBOS.run_step_async(_db_options(rt, name), metrics.timed_step(name, run))
    return result


async def routing_changed(rt: Runtime) -> None:
    """Run the hooks features registered for "a breakout's routes changed" (e.g. the core
    policy), each as one checkpointed step named after the hook, in registration order.

    Every process kind registers the same hooks (:mod:`linkplane.process.hooks`), so a
    workflow replays the same steps wherever it is recovered.
    """
    for hook in rt.routing_hooks:

        async def run(fn: Callable[[Runtime], str] = hook.run) -> str:
            return await _in_thread(rt, lambda: fn(rt))

        await DBOS.run_step_async({"name": hook.name}, metrics.timed_step(hook.name, run))


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Bind ``ids`` (workflow id, breakout id) to every log line of this workflow task.

    The task's own context: concurrent workflows do not see each other's ids, and the
    threads of its steps inherit them (``asyncio.to_thread`` copies the context).
    """
    with structlog.contextvars.bound_contextvars(workflow_id=DBOS.workflow_id, **ids):
        yield
