"""Retry policy: full-jitter exponential backoff, only for retryable errors."""

from __future__ import annotations

import pytest

from linkplane.cloud.errors import InvalidRequest, Throttled, Transient
from linkplane.cloud.retry import RetryPolicy
from linkplane.settings import Settings


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def policy(sleeps: list[float], rand: float = 0.5, attempts: int = 5) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts, base_seconds=0.2, cap_seconds=1.0,
        sleep=sleeps.append, random=lambda: rand,
    )  # fmt: skip


def test_retries_retryable_errors_with_jittered_exponential_delays() -> None:
    sleeps: list[float] = []
    fn = Flaky([Throttled("t"), Transient("x"), Throttled("t"), Throttled("t")])
    assert policy(sleeps).call(fn) == "ok"
    assert fn.calls == 5
    # random 0.5 of min(cap=1.0, 0.2 * 2**n): 0.1, 0.2, 0.4, then capped at 0.5
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.5])


def test_full_jitter_uses_the_whole_interval() -> None:
    low: list[float] = []
    high: list[float] = []
    policy(low, rand=0.0).call(Flaky([Throttled("t")]))
    policy(high, rand=0.999).call(Flaky([Throttled("t")]))
    assert low == [0.0]
    assert high == pytest.approx([0.1998])


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    sleeps: list[float] = []
    last = Throttled("last")
    fn = Flaky([Throttled("a"), Throttled("b"), last])
    with pytest.raises(Throttled) as info:
        policy(sleeps, attempts=3).call(fn)
    assert info.value is last
    assert fn.calls == 3
    assert len(sleeps) == 2


def test_non_retryable_is_raised_at_once() -> None:
    sleeps: list[float] = []
    fn = Flaky([InvalidRequest("bad")])
    with pytest.raises(InvalidRequest):
        policy(sleeps).call(fn)
    assert fn.calls == 1
    assert sleeps == []


def test_policy_from_settings() -> None:
    p = RetryPolicy.from_settings(
        Settings(aws_max_attempts=3, aws_backoff_base_seconds=0.5, aws_backoff_cap_seconds=4)
    )
    assert (p.max_attempts, p.base_seconds, p.cap_seconds) == (3, 0.5, 4)
    assert [p.delay(n) <= min(4, 0.5 * 2**n) for n in range(6)] == [True] * 6
