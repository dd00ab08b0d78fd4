"""Upgrade: breakouts waiting for their customers survive a restart on changed code.

DBOS recovers only the workflows of its own ``application_version``; by default that is a
hash of the workflow code, so any deploy would strand every waiting breakout. linkplane pins
it (``dbos_application_version``). Here a worker parks breakouts in the acceptance wait and
stops; a worker with *changed code* (one more workflow registered: DBOS's computed hash
differs) but the same pinned version recovers them, and they complete once the customers act.

The other side, documented by a test: a worker pinned to a *different* version does not pick
them up (a control breakout it started itself becomes Active meanwhile, so it was running
and the customers had acted); they stay waiting, PENDING under the old version, until a
worker of their version runs.
"""

from __future__ import annotations

import json

import pytest

from tests.test_breakouts_faults_support import (
    Customer,
    ProcStack,
    Worker,
    drive_until,
    proc_stack,
    running,
)

ACTIVE, WAITING = 5, 1
EXECUTOR = "upgrade-host"


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("upgrade"))


def _start_line(worker: Worker) -> dict[str, str]:
    # The first JSON line (log lines share the worker's stdout).
    line: dict[str, str] = json.loads(next(x for x in worker.lines() if x.startswith("{")))
    return line


def _breakouts(procs: ProcStack, first: int, n: int) -> list[tuple[int, Customer]]:
    out = []
    for k in range(first, first + n):
        account, cidr = f"{700000000000 + k}", f"10.{180 + k}.0.0/24"
        out.append((procs.create(account, [cidr]),
                    Customer(procs.endpoint, account, procs.tgw_id, cidr)))  # fmt: skip
    return out


def _park(procs: ProcStack, waiting: list[tuple[int, Customer]]) -> dict[str, str]:
    """Version A: start the workflows, wait until each recorded its share, stop cleanly."""
    starts = [a for bid, _ in waiting for a in ("--start", str(bid))]
    with running(procs.data_dir, procs.env(EXECUTOR), *starts) as worker:
        version_a = _start_line(worker)
        drive_until([], lambda: all(procs.row(b).share_arn for b, _ in waiting), worker=worker)
        assert worker.stop() == 0
    return version_a


def test_waiting_breakouts_complete_after_restart_on_changed_code(procs: ProcStack) -> None:
    waiting = _breakouts(procs, 1, 3)
    version_a = _park(procs, waiting)
    customers = [c for _, c in waiting]
    with running(procs.data_dir, procs.env(EXECUTOR), "--changed-code") as worker:
        version_b = _start_line(worker)
        drive_until(customers, lambda: all(procs.status(b) == ACTIVE for b, _ in waiting),
                    worker=worker)  # fmt: skip
        worker.stop()
    assert version_b["computed"] != version_a["computed"], "the code did not change"
    assert version_b["pinned"] == version_a["pinned"] == "linkplane-1"


def test_a_worker_of_another_pinned_version_leaves_them_waiting(procs: ProcStack) -> None:
    waiting = _breakouts(procs, 4, 2)
    _park(procs, waiting)
    ((control, control_customer),) = _breakouts(procs, 6, 1)
    customers = [c for _, c in waiting] + [control_customer]
    other = procs.env(EXECUTOR, dbos_application_version="linkplane-2")
    with running(procs.data_dir, other, "--start", str(control)) as worker:
        drive_until(customers, lambda: procs.status(control) == ACTIVE, worker=worker)
        worker.stop()
    assert all(c.attachment for c in customers), "every customer accepted and attached"
    assert [procs.status(b) for b, _ in waiting] == [WAITING] * len(waiting)
    assert {procs.workflow_status(f"breakout-{b}-1") for b, _ in waiting} == {"PENDING"}
    with running(procs.data_dir, procs.env(EXECUTOR)) as worker:  # their version again
        drive_until(customers, lambda: all(procs.status(b) == ACTIVE for b, _ in waiting),
                    worker=worker)  # fmt: skip
        worker.stop()
