"""Scale: thousands of breakouts waiting for their customers hold no thread each.

One worker process (the real engine) creates breakouts and parks them in the wait for the
invitation's acceptance, then reports its OS thread count and RSS at a small and at a large
number of parked breakouts. Waiting breakouts are coroutines in ``DBOS.recv_async``: the
thread count must not grow with them (it is bounded by the pools: DBOS's and asyncio's
default executor), and memory per waiting breakout must stay small. Figures are printed;
assertions are on counts, not on time.

Default suite: 30 -> 300 parked. ``LINKPLANE_TEST_SLOW=1``: 100 -> 2,000 (several minutes).
"""

from __future__ import annotations

import json
import os

import pytest

from tests.test_breakouts_faults_support import ProcStack, proc_stack, running

SLOW = os.environ.get("LINKPLANE_TEST_SLOW") == "1"
#: Threads a worker may add between the two measurements (pools filling up), whatever N is.
THREAD_SLACK = 8
#: RSS per waiting breakout: a coroutine, its DBOS context and step cache; a parked thread
#: alone would cost far more in stack pages touched and in Python thread state.
MAX_KIB_PER_WAITING = 200


def _measure(procs: ProcStack, small: int, large: int) -> list[dict[str, int]]:
    env = procs.env(f"park-{large}", breakout_poll_initial_seconds=60,
                    breakout_poll_max_seconds=300)  # fmt: skip
    args = ["--park", f"{small},{large}", "--org", str(procs.org_id)]
    with running(procs.data_dir, env, *args) as worker:
        # JSON lines only: the worker's log lines share its stdout.
        lines = (json.loads(line) for line in worker.lines() if line.startswith("{"))
        next(lines)  # the worker's start line
        figures = [next(lines) for _ in range(2)]
        worker.stop()
    return figures


def _check(figures: list[dict[str, int]]) -> None:
    low, high = figures
    per = (high["rss_kib"] - low["rss_kib"]) / (high["parked"] - low["parked"])
    print(f"parked {low['parked']}: {low['threads']} threads, {low['rss_kib']} KiB RSS; "
          f"parked {high['parked']}: {high['threads']} threads, {high['rss_kib']} KiB RSS; "
          f"{per:.1f} KiB per extra waiting breakout")  # fmt: skip
    assert high["threads"] <= low["threads"] + THREAD_SLACK, figures
    assert per <= MAX_KIB_PER_WAITING, figures


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("scale"))


def test_300_waiting_breakouts_hold_no_thread_each(procs: ProcStack) -> None:
    _check(_measure(procs, 30, 300))


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(not SLOW, reason="set LINKPLANE_TEST_SLOW=1 for the 2,000 version")
def test_2000_waiting_breakouts_hold_no_thread_each(procs: ProcStack) -> None:
    _check(_measure(procs, 100, 2000))
