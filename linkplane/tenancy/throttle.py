"""A per-source limit on sign-in attempts (``POST /authenticate`` and the portal's sign-in).

Every password attempt costs an argon2 verification (about 64 MiB and tens of milliseconds),
so unlimited attempts from one address are a lever on the server's CPU and memory, besides
a guessing aid. A token bucket per client address: ``per_minute`` attempts at once, then one
every ``60 / per_minute`` seconds. It lives in the serving process's memory: with several
``serve`` processes each allows its own share (the lockout in the database is global).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from linkplane.errors import TooManyRequests

#: Addresses remembered at most; the fullest buckets are dropped first when exceeded.
MAX_SOURCES = 100_000


class AttemptLimiter:
    def __init__(self, per_minute: int) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, stamp)
        self._lock = threading.Lock()

    def take(self, source: str | None, now: float | None = None) -> None:
        """Spend one attempt of ``source`` or raise TooManyRequests saying when to retry."""
        key = source or ""
        at = time.monotonic() if now is None else now
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self._capacity, at))
            tokens = min(self._capacity, tokens + (at - stamp) * self._rate)
            if tokens < 1.0:
                wait = math.ceil((1.0 - tokens) / self._rate)
                self._buckets[key] = (tokens, at)
                raise TooManyRequests(
                    f"too many sign-in attempts from your address: wait {wait} s and try again",
                    retry_after=wait,
                )
            self._buckets[key] = (tokens - 1.0, at)
            if len(self._buckets) > MAX_SOURCES:
                self._forget_idle()

    def _forget_idle(self) -> None:
        by_fullness = sorted(self._buckets.items(), key=lambda item: -item[1][0])
        for key, _ in by_fullness[: len(by_fullness) // 2]:
            del self._buckets[key]


def limiter_on(state: Any, per_minute: int) -> AttemptLimiter:
    """The limiter kept on an application's ``state`` (created on first use)."""
    limiter: AttemptLimiter | None = getattr(state, "auth_limiter", None)
    if limiter is None:
        limiter = AttemptLimiter(per_minute)
        state.auth_limiter = limiter
    return limiter
