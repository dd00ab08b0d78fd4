"""Client-side token buckets matching EC2's documented API throttling.

EC2 throttles per account, region and action with token buckets: non-mutating actions
(Describe*, Search*, Get*, List*) have a bucket of 100 tokens refilled at 20 per second,
mutating actions 50 tokens refilled at 5 per second. Spending our own tokens first keeps a
burst of workflow steps from being throttled by AWS (and retried) at all.

:class:`RateLimiter` is **per process**: every thread of one process shares
:data:`PROCESS_LIMITER`, but two processes each have their own buckets, so N processes could
together send N times the rate. That is enough for one process (``linkplane up`` on SQLite);
several workers on PostgreSQL share one budget instead (:mod:`linkplane.cloud.budget`), and
both are a :class:`Limiter` to the adapter. AWS's own throttling (``RequestLimitExceeded``,
retried by :mod:`linkplane.cloud.retry`) remains the backstop. RAM calls use the same
numbers as a conservative assumption (RAM documents per-action TPS quotas, not buckets).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class ActionClass(StrEnum):
    NON_MUTATING = "non-mutating"
    MUTATING = "mutating"


@dataclass(frozen=True)
class BucketSpec:
    capacity: float
    refill_per_second: float


#: EC2's documented default buckets (Amazon EC2 API reference, "Request throttling").
EC2_BUCKETS: dict[ActionClass, BucketSpec] = {
    ActionClass.NON_MUTATING: BucketSpec(capacity=100, refill_per_second=20),
    ActionClass.MUTATING: BucketSpec(capacity=50, refill_per_second=5),
}

_READ_PREFIXES = ("Describe", "Search", "Get", "List")


def action_class(action: str) -> ActionClass:
    """Describe*/Search*/Get*/List* (also snake_case) are non-mutating; the rest mutate."""
    name = "".join(part.capitalize() for part in action.split("_")) if "_" in action else action
    name = name[:1].upper() + name[1:]
    return ActionClass.NON_MUTATING if name.startswith(_READ_PREFIXES) else ActionClass.MUTATING


class Limiter(Protocol):
    """What the AWS adapter asks before every request."""

    def acquire(self, *, service: str, account: str, region: str, action: str) -> float:
        """Wait until ``action`` may be sent; return the seconds waited."""
        ...


class TokenBucket:
    """A bucket that lends tokens ahead: a caller reserves one and sleeps until it exists.

    Reserving under the lock and sleeping outside it keeps waiters in arrival order without
    holding the lock while asleep.
    """

    def __init__(self, spec: BucketSpec, *, clock: Callable[[], float]) -> None:
        self._spec = spec
        self._clock = clock
        self._tokens = spec.capacity
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one token; return how many seconds to wait before using it (0 if at once)."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._stamp)
            self._stamp = now
            self._tokens = min(
                self._spec.capacity, self._tokens + elapsed * self._spec.refill_per_second
            )
            self._tokens -= 1
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self._spec.refill_per_second


class RateLimiter:
    """Buckets keyed by (service, account, region, action class), created on first use."""

    def __init__(
        self,
        buckets: dict[ActionClass, BucketSpec] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._specs = buckets or EC2_BUCKETS
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str, ActionClass], TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: tuple[str, str, str, ActionClass]) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(self._specs[key[3]], clock=self._clock)
                self._buckets[key] = bucket
            return bucket

    def acquire(self, *, service: str, account: str, region: str, action: str) -> float:
        """Wait until ``action`` may be sent; return the seconds waited."""
        key = (service, account, region, action_class(action))
        wait = self._bucket(key).reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


#: The limiter every adapter of this process shares (see the module docstring).
PROCESS_LIMITER = RateLimiter()
