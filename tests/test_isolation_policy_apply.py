"""Applying the core policy from several workers at once: one applier at a time, unique
temporary files, and the file on disk is always a whole, current ruleset."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from linkplane.context import AppContext
from linkplane.isolation import gateway, service
from linkplane.network.policy import parse_ruleset
from linkplane.settings import Settings
from tests.process_support import wait_until


def test_concurrent_applies_leave_one_whole_current_policy(
    settings: Settings, ctx: AppContext
) -> None:
    def apply(_: int) -> bool:
        result = service.apply_policy(settings=settings, factory=ctx.sessionmaker, force=True)
        return result.changed

    with ThreadPoolExecutor(max_workers=8) as pool:
        changed = list(pool.map(apply, range(16)))
    assert all(changed)  # every forced apply wrote (none failed on a shared temp file)
    path = gateway.policy_path(settings)
    current = service.compute_policy(factory=ctx.sessionmaker)
    assert parse_ruleset(path.read_text()).digest() == current.digest()
    assert not list(path.parent.glob("*.tmp"))  # no temporary file left behind


def test_write_atomically_uses_a_fresh_temporary_file_each_time(settings: Settings) -> None:
    path = gateway.policy_path(settings)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: gateway.write_atomically(path, f"# {i}\n"), range(32)))
    assert path.read_text().startswith("# ")
    assert not list(path.parent.glob("*.tmp"))


class _CountedCompute:
    """service.compute_policy, counting the runs for this test's database only (other stacks
    of the test process may apply their own policies meanwhile)."""

    def __init__(self, factory: object, *, hold_first: threading.Event | None = None) -> None:
        self.factory, self.calls, self.hold_first = factory, 0, hold_first
        self.first_read = threading.Event()
        self._original = service.compute_policy

    def __call__(self, *, factory: Any) -> Any:
        policy = self._original(factory=factory)
        if factory is self.factory:
            self.calls += 1
            if self.calls == 1 and self.hold_first is not None:
                self.first_read.set()
                self.hold_first.wait(10)
        return policy


def test_applies_asked_while_one_waits_share_the_next_run(
    settings: Settings, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _CountedCompute(ctx.sessionmaker)
    monkeypatch.setattr(service, "compute_policy", counted)
    group = service._apply_group(settings, ctx.sessionmaker)
    before = group.asked
    with ThreadPoolExecutor(max_workers=10) as pool:
        with gateway.apply_lock(settings):  # an apply in progress elsewhere
            futures = [pool.submit(service.apply_policy, settings=settings,
                                   factory=ctx.sessionmaker) for _ in range(10)]  # fmt: skip
            wait_until(lambda: group.asked == before + 10, "ten queued callers", 10)
        results = [f.result() for f in futures]
    assert counted.calls == 1  # one run, started after all ten asked, answers all ten
    current = service.compute_policy(factory=ctx.sessionmaker).digest()
    assert {r.digest for r in results} == {current}


def test_a_caller_asking_after_a_run_started_gets_a_run_of_its_own(
    settings: Settings, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run in progress read the database before this caller's change: it cannot answer
    for it."""
    release = threading.Event()
    counted = _CountedCompute(ctx.sessionmaker, hold_first=release)
    monkeypatch.setattr(service, "compute_policy", counted)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(service.apply_policy, settings=settings, factory=ctx.sessionmaker)
        assert counted.first_read.wait(10)
        second = pool.submit(service.apply_policy, settings=settings, factory=ctx.sessionmaker)
        group = service._apply_group(settings, ctx.sessionmaker)
        wait_until(lambda: group.asked >= 2, "the second caller", 10)
        release.set()
        first.result(), second.result()
    assert counted.calls == 2


def test_a_forced_apply_always_runs(
    settings: Settings, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.apply_policy(settings=settings, factory=ctx.sessionmaker)
    counted = _CountedCompute(ctx.sessionmaker)
    monkeypatch.setattr(service, "compute_policy", counted)
    result = service.apply_policy(settings=settings, factory=ctx.sessionmaker, force=True)
    assert counted.calls == 1 and result.changed
