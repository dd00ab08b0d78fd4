"""The AWS rate budget shared through PostgreSQL (linkplane.cloud.budget)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event

from linkplane.cloud.budget import SharedBudget, process_limiter
from linkplane.cloud.ratelimit import PROCESS_LIMITER, ActionClass, BucketSpec, RateLimiter
from linkplane.context import AppContext, open_context
from linkplane.settings import Settings
from tests.test_cloud_ratelimit import FakeClock

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> Iterator[AppContext]:
    ctx = open_context(Settings(data_dir=tmp_path / "data", database_url=postgres_url))
    yield ctx
    ctx.close()


_accounts = iter(range(100_000_000_000, 999_999_999_999, 7919))


def fresh_account() -> str:
    """Tests share one PostgreSQL database: each uses buckets of an account of its own."""
    return str(next(_accounts))


def take(limiter: Any, account: str, action: str = "CreateRoute") -> float:
    wait: float = limiter.acquire(
        service="ec2", account=account, region="eu-central-1", action=action
    )
    return wait


def budget(engine: Engine, clock: FakeClock, **kwargs: Any) -> SharedBudget:
    return SharedBudget(engine, clock=clock, sleep=clock.sleep, **kwargs)


def test_two_processes_draw_from_one_bucket(pg: AppContext) -> None:
    clock = FakeClock()
    clock.now = 1_000.0
    a, b = budget(pg.engine, clock, batch_max=1), budget(pg.engine, clock, batch_max=1)
    account = fresh_account()
    # EC2's mutating bucket is 50 at 5/s; the shared one keeps the refill of one hold
    # period (0.25 s -> 2 tokens) as margin for tokens sent after they were counted.
    assert a.capacity(ActionClass.MUTATING) == 48
    assert [take(a, account) for _ in range(48)] == [0.0] * 48
    assert take(b, account) == pytest.approx(0.2)  # the other process finds it empty
    assert take(a, account) == pytest.approx(0.4)  # and queues behind it
    assert take(b, account, "DescribeVpcs") == 0.0  # another class, another bucket
    assert take(b, fresh_account()) == 0.0  # another account, another bucket
    clock.now += 60  # refilled, capped at the bucket
    assert [take(b, account) for _ in range(48)] == [0.0] * 48
    assert take(a, account) > 0


def test_batches_save_round_trips(pg: AppContext) -> None:
    clock = FakeClock()
    clock.now = 1_000.0
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "aws_rate_bucket" in sql:
            statements.append(sql)

    event.listen(pg.engine, "before_cursor_execute", count)
    try:
        shared = budget(pg.engine, clock, batch_max=8)
        account = fresh_account()
        waits = [take(shared, account, "DescribeVpcs") for _ in range(100)]
    finally:
        event.remove(pg.engine, "before_cursor_execute", count)
    # Batches of 1, 2, 4, then 8: 15 statements for 100 calls.
    assert len(statements) == 4 + 11
    # The shared bucket is 100 - ceil(20/s * 0.25 s) = 95; the rest waits at 20/s.
    assert waits[:95] == [0.0] * 95
    assert waits[95:] == pytest.approx([0.05 * i for i in range(1, 6)])


def test_unspent_tokens_are_given_back(pg: AppContext) -> None:
    clock = FakeClock()
    clock.now = 1_000.0
    slow = {ActionClass.MUTATING: BucketSpec(capacity=10, refill_per_second=0.001)}
    a = budget(pg.engine, clock, buckets=slow, batch_max=8)
    b = budget(pg.engine, clock, buckets=slow, batch_max=1)
    account = fresh_account()
    take(a, account)  # reserves 1
    take(a, account)  # reserves 2, one left over
    clock.now += 1.0  # the left-over token expires (hold 0.25 s)
    take(a, account)  # reserves 1 and gives the expired one back
    # 9 (10 less the margin) - 4 reserved + 1 given back: b finds 6 (and 0.001 of refill).
    waits = [take(b, account) for _ in range(7)]
    assert waits[:6] == [0.0] * 6
    assert waits[6] > 0


def test_database_unreachable_falls_back_to_own_buckets() -> None:
    clock = FakeClock()
    nowhere = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                            connect_args={"connect_timeout": 2})  # fmt: skip
    fallback = RateLimiter(clock=clock, sleep=clock.sleep)
    shared = SharedBudget(nowhere, clock=clock, sleep=clock.sleep, fallback=fallback)
    assert [take(shared, "111111111111") for _ in range(50)] == [0.0] * 50
    assert take(shared, "111111111111") == pytest.approx(0.2)  # the fallback's bucket


def test_process_limiter_by_database(pg: AppContext, ctx: AppContext) -> None:
    shared = process_limiter(pg.settings, pg.engine)
    assert isinstance(shared, SharedBudget) and shared.capacity(ActionClass.MUTATING) == 48
    assert process_limiter(ctx.settings, ctx.engine) is PROCESS_LIMITER


def test_raised_account_limits_scale_the_buckets(pg: AppContext, ctx: AppContext) -> None:
    raised = {"aws_rate_scale": 4.0}
    shared = process_limiter(pg.settings.model_copy(update=raised), pg.engine)
    assert isinstance(shared, SharedBudget)
    assert shared.capacity(ActionClass.MUTATING) == 200 - 5  # 4 x 50, less 20/s x 0.25 s
    own = process_limiter(ctx.settings.model_copy(update=raised), ctx.engine)
    assert isinstance(own, RateLimiter) and own is not PROCESS_LIMITER
    account = fresh_account()
    assert [take(own, account) for _ in range(200)] == [0.0] * 200


# --- three real processes -------------------------------------------------------------------
#: A small, fast bucket so the run takes seconds: AWS's would be 10 tokens at 20/s.
SMALL = {ActionClass.MUTATING: BucketSpec(capacity=10, refill_per_second=20)}
CALLS_PER_PROCESS = 30


def _child(url: str, account: str, shared: bool, start_at: float, out: Any) -> None:
    engine = create_engine(url)
    limiter: Any = (
        SharedBudget(engine, SMALL, batch_max=4, hold_seconds=0.05)
        if shared
        else RateLimiter(SMALL)
    )
    while time.time() < start_at:
        time.sleep(0.001)
    sent = []
    for _ in range(CALLS_PER_PROCESS):
        take(limiter, account)
        sent.append(time.time())  # the moment this process would send the request
    out.put(sent)
    engine.dispose()


def _run_three(url: str, *, shared: bool) -> list[float]:
    mp = multiprocessing.get_context("spawn")
    out = mp.Queue()
    account = fresh_account()
    start_at = time.time() + 3.0  # after every child imported linkplane
    children = [mp.Process(target=_child, args=(url, account, shared, start_at, out))
                for _ in range(3)]  # fmt: skip
    for child in children:
        child.start()
    sent = sorted(t for _ in children for t in out.get(timeout=60))
    for child in children:
        child.join(timeout=10)
        assert child.exitcode == 0
    return sent


def worst_excess(sent: list[float], spec: BucketSpec) -> float:
    """How far the busiest window exceeds what a full bucket allows: ``capacity`` requests
    at once plus ``refill`` per second of the window (<= 0: within the bucket)."""
    worst = float("-inf")
    for i in range(len(sent)):
        for j in range(i, len(sent)):
            allowed = spec.capacity + spec.refill_per_second * (sent[j] - sent[i])
            worst = max(worst, (j - i + 1) - allowed)
    return worst


def test_three_processes_together_stay_within_the_bucket(postgres_url: str, pg: AppContext) -> None:
    sent = _run_three(postgres_url, shared=True)
    assert len(sent) == 3 * CALLS_PER_PROCESS
    assert worst_excess(sent, SMALL[ActionClass.MUTATING]) <= 0


def test_three_processes_with_own_buckets_exceed_it(postgres_url: str, pg: AppContext) -> None:
    """The control: each process with its own buckets (as before) spends three budgets."""
    sent = _run_three(postgres_url, shared=False)
    assert worst_excess(sent, SMALL[ActionClass.MUTATING]) >= 10
