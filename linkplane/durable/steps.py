"""Workflow steps: each AWS call, database change and hook is its own checkpointed step.

Steps are async so a workflow never holds a thread between steps: the blocking boto3 or
SQLAlchemy call runs in a worker thread only while it is in flight.

Retrying, once per kind of failure:

- AWS: the step owns it (the adapters the runtime hands out make one attempt). A retryable
  :class:`~linkplane.cloud.errors.CloudError` is retried with the ``aws_*`` full-jitter
  backoff of :class:`~linkplane.cloud.retry.RetryPolicy`, waiting with ``asyncio.sleep`` so
  no pool thread is held; a permanent one (or the last) is raised to the workflow at once,
  which then runs its compensations. Retrying here rather than in the adapter means one
  layer instead of two multiplied (the adapter's 8 inside DBOS's 6 were up to 48 attempts
  with their sleeps held in the step pool), and a retry repeats only the failed call.
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
from linkplane.cloud.retry import RetryPolicy
from linkplane.db import transaction
from linkplane.durable.runtime import Runtime

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
    """Run ``call`` against the region's cloud port as one retried, checkpointed step."""
    policy = RetryPolicy.from_settings(rt.settings)

    async def attempt() -> T:
        return await _in_thread(rt, lambda: call(rt.clouds(region)))

    async def run() -> T:
        return await policy.call_async(attempt, operation=name)

    result: T = await DBOS.run_step_async({"name": name}, run)
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

    result: T = await DBOS.run_step_async(_db_options(rt, name), run)
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

        await DBOS.run_step_async({"name": hook.name}, run)


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Bind ``ids`` (workflow id, breakout id) to every log line of this workflow task.

    The task's own context: concurrent workflows do not see each other's ids, and the
    threads of its steps inherit them (``asyncio.to_thread`` copies the context).
    """
    with structlog.contextvars.bound_contextvars(workflow_id=DBOS.workflow_id, **ids):
        yield
