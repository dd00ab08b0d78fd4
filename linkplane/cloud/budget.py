"""The AWS rate budget shared by every process on one PostgreSQL database.

EC2 throttles per account, region and action class, however many workers call it; the
in-process :class:`~linkplane.cloud.ratelimit.RateLimiter` gives each process a budget of its
own, so three workers would spend three. Here the bucket is a row of ``aws_rate_bucket``
(one per service, account, region and action class), refilled and drawn from by one short
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement: PostgreSQL's row lock makes
the read-refill-take atomic across processes and hosts, and its clock is the one clock
they all share.

Not every AWS call is a round trip: a process reserves a **batch** of tokens at once and
hands them to its threads. The batch grows (doubling up to ``batch_max``) while each is
spent completely and shrinks to what was spent when tokens were left over. A reserved token
is good for ``hold_seconds`` after it became usable; one left unspent that long is given
back by the next reservation of that bucket (AWS never saw it spent). Because a token may
be sent up to ``hold_seconds`` after the row counted it, the shared bucket is that much
refill smaller than AWS's (``capacity - ceil(refill * hold)``), so the requests AWS sees
never exceed its bucket.

Like the in-process buckets, tokens are lent ahead: the level goes below zero and each
caller sleeps until its token exists, so callers queue in arrival order instead of polling.

When PostgreSQL cannot be reached the process falls back to its own in-process buckets
(logged once per outage): AWS's throttling, which the retry policy handles, then guards the
excess, and no AWS call fails only because the budget's table was unreachable.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from linkplane.cloud.ratelimit import (
    EC2_BUCKETS,
    PROCESS_LIMITER,
    ActionClass,
    BucketSpec,
    Limiter,
    RateLimiter,
    action_class,
)
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)

#: Refill, take ``n`` and return the level, in one statement. ``:now`` is NULL except under
#: an injected clock (tests); ``:refund`` gives back tokens this process reserved and never
#: spent. The refill never moves ``stamp`` backwards, so a late statement refills nothing.
_RESERVE = text("""
INSERT INTO aws_rate_bucket AS b (service, account, region, action_class, tokens, stamp)
VALUES (:service, :account, :region, :action_class,
        CAST(:capacity AS double precision) - :n,
        COALESCE(CAST(:now AS double precision),
                 CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS double precision)))
ON CONFLICT (service, account, region, action_class) DO UPDATE SET
    tokens = LEAST(CAST(:capacity AS double precision),
                   b.tokens + :refund + GREATEST(0, EXCLUDED.stamp - b.stamp) * :refill) - :n,
    stamp = GREATEST(b.stamp, EXCLUDED.stamp)
RETURNING tokens
""")

Key = tuple[str, str, str, ActionClass]


@dataclass
class _Lease:
    """Tokens of one bucket this process reserved and has not handed out yet."""

    #: Local clock times from which each reserved token may be sent, earliest first.
    ready: deque[float] = field(default_factory=deque)
    #: How many tokens the next reservation asks for.
    size: int = 1
    #: The size of the last reservation.
    last: int = 0
    #: Tokens that expired unspent, given back by the next reservation.
    refund: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def expire(self, now: float, hold: float) -> None:
        """Drop tokens unspent ``hold`` seconds after they became usable; ask for fewer."""
        expired = 0
        while self.ready and self.ready[0] + hold < now:
            self.ready.popleft()
            expired += 1
        if expired:
            self.refund += expired
            self.size = max(1, self.last - expired)


class SharedBudget:
    """A :class:`~linkplane.cloud.ratelimit.Limiter` whose buckets live in PostgreSQL."""

    def __init__(
        self,
        engine: Engine,
        buckets: dict[ActionClass, BucketSpec] | None = None,
        *,
        batch_max: int = 8,
        hold_seconds: float = 0.25,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fallback: Limiter | None = None,
    ) -> None:
        """``clock`` replaces both this process's clock and the database's (tests)."""
        self._engine = engine
        self._specs = buckets or EC2_BUCKETS
        self._batch_max = max(1, batch_max)
        self._hold = hold_seconds
        self._db_clock = clock
        self._clock = clock or time.monotonic
        self._sleep = sleep
        self._fallback = fallback or PROCESS_LIMITER
        self._leases: dict[Key, _Lease] = {}
        self._lock = threading.Lock()
        self._degraded = False

    def capacity(self, cls: ActionClass) -> float:
        """The shared bucket's size: AWS's, less the refill of one hold period."""
        spec = self._specs[cls]
        return max(1.0, spec.capacity - math.ceil(spec.refill_per_second * self._hold))

    def acquire(self, *, service: str, account: str, region: str, action: str) -> float:
        ready = self._take((service, account, region, action_class(action)))
        if ready is None:
            return self._fallback.acquire(
                service=service, account=account, region=region, action=action
            )
        wait = max(0.0, ready - self._clock())
        if wait > 0:
            self._sleep(wait)
        return wait

    def _take(self, key: Key) -> float | None:
        """When this process may send its next token of ``key``; None: no answer from
        PostgreSQL (the caller falls back)."""
        lease = self._lease(key)
        with lease.lock:
            lease.expire(self._clock(), self._hold)
            if not lease.ready and not self._reserve(key, lease):
                return None
            return lease.ready.popleft()

    def _lease(self, key: Key) -> _Lease:
        with self._lock:
            return self._leases.setdefault(key, _Lease())

    def _reserve(self, key: Key, lease: _Lease) -> bool:
        """Reserve the next batch into ``lease``; False when PostgreSQL did not answer."""
        spec = self._specs[key[3]]
        n = min(lease.size, self._batch_max)
        params = {
            "service": key[0], "account": key[1], "region": key[2], "action_class": key[3].value,
            "capacity": self.capacity(key[3]), "refill": spec.refill_per_second, "n": n,
            "refund": lease.refund,
            "now": self._db_clock() if self._db_clock else None,
        }  # fmt: skip
        try:
            with self._engine.begin() as conn:
                level = float(conn.execute(_RESERVE, params).scalar_one())
        except SQLAlchemyError as exc:
            self._set_degraded(True, exc)
            return False
        self._set_degraded(False)
        now = self._clock()
        # Token i of n (1-based) exists once the level it leaves behind, level + n - i,
        # is back to zero: the batch's tokens become usable 1/refill apart in debt.
        lease.ready.extend(
            now + max(0.0, -(level + n - i)) / spec.refill_per_second for i in range(1, n + 1)
        )
        lease.refund = 0
        lease.last = n
        lease.size = min(self._batch_max, n * 2)  # halved back by expire() if left unspent
        return True

    def _set_degraded(self, degraded: bool, exc: Exception | None = None) -> None:
        if degraded == self._degraded:
            return
        self._degraded = degraded
        if degraded:
            log.warning("aws_budget_unreachable", fallback="in-process buckets",
                        error=type(exc).__name__)  # fmt: skip
        else:
            log.info("aws_budget_restored")


def scaled_buckets(scale: float) -> dict[ActionClass, BucketSpec]:
    """EC2's buckets times ``scale`` (an account whose API limits AWS raised)."""
    return {
        cls: BucketSpec(spec.capacity * scale, spec.refill_per_second * scale)
        for cls, spec in EC2_BUCKETS.items()
    }


def process_limiter(settings: Settings, engine: Engine) -> Limiter:
    """The limiter a process's AWS adapters share: one budget across processes on
    PostgreSQL, this process's own buckets on SQLite (one host, one process: ``up``)."""
    buckets = scaled_buckets(settings.aws_rate_scale)
    if engine.dialect.name == "postgresql":
        return SharedBudget(
            engine,
            buckets,
            batch_max=settings.aws_budget_batch_max,
            hold_seconds=settings.aws_budget_hold_seconds,
            fallback=RateLimiter(buckets),
        )
    return PROCESS_LIMITER if settings.aws_rate_scale == 1 else RateLimiter(buckets)
