"""Stranded breakouts (issue 13 item 2): a stored breakout whose workflow failed in its first
step, or was cut off before it ran, still reaches its resource share (or rolls back).

Both tests run real worker processes (``tests.test_breakouts_faults_support``) sharing one
data directory with the test, and the periodic sweep in the worker that comes after the
failure; neither calls anything in the test process to help.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.test_breakouts_faults_support import ProcStack, proc_stack, running

WAITING, DEACTIVATED = 1, 7


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("stranded"))


def _rows(procs: ProcStack, first: int, n: int) -> list[int]:
    return [procs.create(f"{720000000000 + k}", [f"10.{100 + k}.0.0/24"])
            for k in range(first, first + n)]  # fmt: skip


def _settled(procs: ProcStack, bid: int) -> bool:
    """Waiting for its customer with its share made, or rolled back: not stranded."""
    row = procs.row(bid)
    return (bool(row.share_arn) and row.status_id == WAITING) or row.status_id == DEACTIVATED


def _wait_settled(procs: ProcStack, ids: list[int], timeout: float) -> list[int]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        stranded = [b for b in ids if not _settled(procs, b)]
        if not stranded:
            return []
        time.sleep(0.2)
    return stranded


def test_a_pool_timeout_in_the_first_step_is_retried_not_stranded(procs: ProcStack) -> None:
    ids = _rows(procs, 0, 3)
    starts = [a for bid in ids for a in ("--start", str(bid))]
    with running(procs.data_dir, procs.env("pool-timeout"), "--fail-load", "3", *starts):
        stranded = _wait_settled(procs, ids, timeout=90)
    assert stranded == [], [(b, procs.row(b).status_id, procs.row(b).share_arn,
                             procs.workflow_status(f"breakout-{b}-1")) for b in stranded]
    assert [(procs.row(b).status_id, procs.row(b).revision) for b in ids] == [(WAITING, 1)] * 3


def test_a_workflow_that_failed_in_its_first_step_is_restarted_by_the_sweep(
    procs: ProcStack,
) -> None:
    ids = _rows(procs, 5, 3)
    starts = [a for bid in ids for a in ("--start", str(bid))]
    env = procs.env("first-step", breakout_sweep_interval_seconds=1)
    with running(procs.data_dir, env, "--sweep", "--fail-load", "3", "--fail-with", "bug",
                 *starts):  # fmt: skip
        # The three workflows end in ERROR; the sweep of the same worker must notice.
        stranded = _wait_settled(procs, ids, timeout=90)
    assert stranded == [], [(b, procs.row(b).status_id, procs.row(b).share_arn,
                             procs.workflow_status(f"breakout-{b}-1")) for b in stranded]
    assert [procs.workflow_status(f"breakout-{b}-1") for b in ids] == ["ERROR"] * 3
    # Started again as revision 2, which made the share and waits for the customer.
    assert [(procs.row(b).status_id, procs.row(b).revision) for b in ids] == [(WAITING, 2)] * 3


def test_creates_cut_off_by_a_stop_are_picked_up_after_the_restart(procs: ProcStack) -> None:
    ids = _rows(procs, 10, 20)
    starts = [a for bid in ids for a in ("--start", str(bid))]
    with running(procs.data_dir, procs.env("cut-off-1"), *starts) as worker:
        time.sleep(0.25)
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=60)
    # A new process, as `linkplane up` after a restart is (another executor id); the old
    # one's heartbeat goes stale after 2 s.
    env = procs.env("cut-off-2", breakout_sweep_interval_seconds=1,
                    executor_dead_after_seconds=2)  # fmt: skip
    with running(procs.data_dir, env, "--sweep"):
        stranded = _wait_settled(procs, ids, timeout=90)
    assert stranded == [], [(b, procs.row(b).status_id, procs.row(b).share_arn,
                             procs.workflow_status(f"breakout-{b}-1")) for b in stranded]


def test_audit_reports_a_stranded_breakout_until_the_sweep_repairs_it(procs: ProcStack) -> None:
    from linkplane.cloud.factory import make_cloud
    from linkplane.durable.client import QueueClient
    from linkplane.isolation import service as isolation

    def stranded() -> list[str]:
        client = QueueClient(procs.settings)
        try:
            found = isolation.audit(settings=procs.settings, factory=procs.factory,
                                    cloud_for=lambda r: make_cloud(procs.settings, r),
                                    workflows=client)  # fmt: skip
        finally:
            client.close()
        return [f.message for f in found.findings if f.code == "stranded"]

    ids = _rows(procs, 40, 2)
    starts = [a for bid in ids for a in ("--start", str(bid))]
    with running(procs.data_dir, procs.env("audit-1"), "--fail-load", "2", "--fail-with", "bug",
                 *starts):  # fmt: skip
        end = time.monotonic() + 90
        while any(procs.workflow_status(f"breakout-{b}-1") != "ERROR" for b in ids):
            assert time.monotonic() < end, "the workflows did not fail"
            time.sleep(0.2)
    messages = stranded()
    assert len(messages) == 2, messages
    assert all("Pending Customer Action and records no AWS resource (not even its resource "
               "share), but no workflow works on it (its workflow ended ERROR)" in m
               for m in messages), messages  # fmt: skip
    env = procs.env("audit-2", breakout_sweep_interval_seconds=1)
    with running(procs.data_dir, env, "--sweep"):
        assert _wait_settled(procs, ids, timeout=90) == []
    assert stranded() == []


def test_background_starts_lost_with_their_process_are_made_by_the_sweep(
    procs: ProcStack,
) -> None:
    """Starts are handed to a thread (``BackgroundStarts``); a process killed before the
    thread enqueued them leaves rows no workflow works on: the sweep starts them."""
    ids = _rows(procs, 60, 3)
    starts = [a for bid in ids for a in ("--start", str(bid))]
    with running(procs.data_dir, procs.env("lost-1"), "--hold-starts", *starts) as worker:
        next(worker.lines())  # launched; the starts are handed to the held thread
        worker.proc.kill()
        worker.proc.wait(timeout=60)
    assert [procs.workflow_status(f"breakout-{b}-1") for b in ids] == [None] * 3
    env = procs.env("lost-2", breakout_sweep_interval_seconds=1)
    with running(procs.data_dir, env, "--sweep"):
        stranded = _wait_settled(procs, ids, timeout=90)
    assert stranded == [], [(b, procs.row(b).status_id, procs.workflow_status(f"breakout-{b}-1"))
                            for b in stranded]  # fmt: skip
    assert [(procs.row(b).status_id, procs.row(b).revision) for b in ids] == [(WAITING, 1)] * 3
