"""Workflow steps: each AWS call and each database change is its own checkpointed step.

Steps are async so a workflow never holds a thread between steps: the blocking boto3 or
SQLAlchemy call runs in a worker thread only while it is in flight. AWS steps are retried
with backoff (settings ``breakout_step_*``) when the error is ``retryable``; a permanent
error is raised to the workflow at once, which then runs its compensations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from dbos import DBOS
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from linkplane.attachments.engine import runtime
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort
from linkplane.db import transaction
from linkplane.ops import metrics

T = TypeVar("T")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, CloudError):
        return exc.retryable
    # SQLite "database is locked" under write contention is worth another try.
    return isinstance(exc, OperationalError)


def _options(name: str) -> dict[str, Any]:
    settings = runtime().settings
    return {
        "name": name,
        "retries_allowed": True,
        "interval_seconds": settings.breakout_step_retry_seconds,
        "max_attempts": settings.breakout_step_max_attempts,
        "backoff_rate": 2.0,
        "should_retry": _retryable,
    }


async def cloud(name: str, region: str, call: Callable[[CloudPort], T]) -> T:
    """Run ``call`` against the region's cloud port as one retried, checkpointed step."""

    async def run() -> T:
        rt = runtime()
        return await asyncio.to_thread(lambda: call(rt.cloud(region)))

    result: T = await DBOS.run_step_async(_options(name), metrics.timed_step(name, run))
    return result


async def cloud_now(name: str, region: str, call: Callable[[CloudPort], T]) -> tuple[T, float]:
    """Like :func:`cloud`, also returning the wall clock of the call.

    Waits decide on deadlines with this recorded time, so a replay decides the same way.
    """

    def timed(port: CloudPort) -> tuple[T, float]:
        return call(port), time.time()

    return await cloud(name, region, timed)


async def db(name: str, change: Callable[[Session], T]) -> T:
    """Run ``change`` in one application-database transaction, as a checkpointed step."""

    async def run() -> T:
        rt = runtime()

        def work() -> T:
            with transaction(rt.sessionmaker) as session:
                return change(session)

        return await asyncio.to_thread(work)

    result: T = await DBOS.run_step_async(_options(name), metrics.timed_step(name, run))
    return result
