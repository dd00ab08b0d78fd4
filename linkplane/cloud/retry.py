"""The one retry policy of AWS calls: retryable CloudErrors, full-jitter exponential backoff.

botocore's own retries are switched off (one attempt, see :mod:`linkplane.cloud.factory`) so
that this is the only policy: attempts and delays are predictable and testable. The delay
before retry ``n`` (0-based) is ``uniform(0, min(cap, base * 2**n))`` ("full jitter", AWS
Architecture Blog, "Exponential Backoff And Jitter"), which spreads the retries of many
throttled workers instead of letting them retry in lockstep.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from linkplane.cloud.errors import CloudError
from linkplane.logs import get_logger
from linkplane.settings import Settings

T = TypeVar("T")
log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 0.2
    cap_seconds: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    random: Callable[[], float] = field(default=_random.random, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=max(1, settings.aws_max_attempts),
            base_seconds=settings.aws_backoff_base_seconds,
            cap_seconds=settings.aws_backoff_cap_seconds,
        )

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 = the first retry)."""
        ceiling = min(self.cap_seconds, self.base_seconds * float(1 << retry))
        return self.random() * ceiling

    def call(self, fn: Callable[[], T], *, operation: str = "") -> T:
        """Call ``fn``; retry it while it raises a retryable CloudError, up to max_attempts.

        The last error is raised unchanged when attempts run out; non-retryable errors are
        raised at once.
        """
        attempt = 1
        while True:
            try:
                return fn()
            except CloudError as exc:
                if not exc.retryable or attempt >= self.max_attempts:
                    raise
                wait = self.delay(attempt - 1)
                log.info(
                    "aws_retry", operation=operation or exc.operation, code=exc.code,
                    attempt=attempt, wait=round(wait, 3),
                )
                self.sleep(wait)
                attempt += 1


#: For calls that must fail fast (reachability checks): exactly one attempt.
NO_RETRY = RetryPolicy(max_attempts=1)
