"""Client-side token buckets per (service, account, region, action class)."""

from __future__ import annotations

import threading

import pytest

from linkplane.cloud.ratelimit import ActionClass, RateLimiter, action_class


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("action", "expected"),
    [("DescribeTransitGateways", ActionClass.NON_MUTATING),
     ("SearchTransitGatewayRoutes", ActionClass.NON_MUTATING),
     ("GetResourceShares", ActionClass.NON_MUTATING),
     ("describe_vpcs", ActionClass.NON_MUTATING),
     ("CreateTransitGatewayRoute", ActionClass.MUTATING),
     ("AcceptTransitGatewayVpcAttachment", ActionClass.MUTATING)],
)  # fmt: skip
def test_action_classes(action: str, expected: ActionClass) -> None:
    assert action_class(action) is expected


def acquire(rl: RateLimiter, action: str, account: str = "111111111111") -> float:
    return rl.acquire(service="ec2", account=account, region="eu-central-1", action=action)


def test_mutating_bucket_50_then_5_per_second() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    assert [acquire(rl, "CreateRoute") for _ in range(50)] == [0.0] * 50
    assert acquire(rl, "CreateRoute") == pytest.approx(0.2)  # 1 token at 5/s
    assert acquire(rl, "CreateRoute") == pytest.approx(0.4)  # queued behind the first
    clock.now = 10.0  # refilled (capped at 50)
    assert acquire(rl, "CreateRoute") == 0.0
    assert clock.slept == pytest.approx([0.2, 0.4])


def test_non_mutating_bucket_100_then_20_per_second() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    assert sum(acquire(rl, "DescribeVpcs") for _ in range(100)) == 0.0
    assert acquire(rl, "DescribeVpcs") == pytest.approx(0.05)


def test_buckets_are_separate_per_account_and_class() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    for _ in range(50):
        acquire(rl, "CreateRoute")
    assert acquire(rl, "DescribeVpcs") == 0.0
    assert acquire(rl, "CreateRoute", account="222222222222") == 0.0
    assert acquire(rl, "CreateRoute") > 0


def test_shared_by_threads() -> None:
    clock = FakeClock()
    rl = limiter(clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            w = acquire(rl, "CreateRoute")
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert waits.count(0.0) == 50  # exactly the bucket, whatever the interleaving
    assert max(waits) == pytest.approx(30 / 5)
