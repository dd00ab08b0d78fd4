"""Crash matrix: a worker process dies at every step boundary of one breakout's happy path,
is restarted each time, and the breakout still ends Active with exactly one share,
attachment, association and route (nothing duplicated) and one core VPC route.

Two chains (see ``tests.test_breakouts_faults_support``): one dies right
after each step's result was recorded; the other inside each AWS step after its call
returned but before DBOS recorded it, so the step runs again and only idempotency keeps it
from duplicating. Each chain restarts its worker (same executor id: DBOS recovers at once)
until the workflow succeeds, and must have died at every step of the happy path on the way.
"""

from __future__ import annotations

import pytest

from tests.test_breakouts_faults_support import (
    ACTIVE_ONE_CIDR,
    CRASH_EXIT,
    Customer,
    ProcStack,
    counts,
    drive_until,
    inventory,
    owned,
    proc_stack,
    running,
)

#: The happy path's steps ("{cidr}" is the breakout's one CIDR); the waits poll at least once.
STEPS = ["load", "ensure_share", "record_share", "invitation_status", "accepted",
         "find_attachment", "claim", "accept", "attachment_state", "routing", "associate",
         "route {cidr}", "vpc route {cidr}", "activate"]  # fmt: skip
AWS_STEPS = ["ensure_share", "invitation_status", "find_attachment", "accept",
             "attachment_state", "associate", "route {cidr}", "vpc route {cidr}"]  # fmt: skip
ACTIVE = 5


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("crash"))


def _chain(procs: ProcStack, mode: str, n: int) -> dict[str, object]:
    """Restart a crashing worker until the breakout's workflow succeeds; what happened."""
    account, cidr = f"{600000000000 + n}", f"10.{200 + n}.0.0/24"
    bid = procs.create(account, [cidr])
    wid, marks = f"breakout-{bid}-1", procs.data_dir / f"chain-{mode}"
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    env = procs.env(f"chain-{mode}")
    exits: list[int] = []
    args = ["--crash-chain", str(marks), "--crash-mode", mode, "--start", str(bid)]
    while procs.workflow_status(wid) != "SUCCESS":
        with running(procs.data_dir, env, *args) as worker:
            drive_until([customer], lambda: worker.proc.poll() is not None
                        or procs.workflow_status(wid) == "SUCCESS")  # fmt: skip
            exits.append(worker.proc.returncode if worker.proc.poll() is not None
                         else worker.stop())  # fmt: skip
    found = counts(owned(inventory(procs.endpoint, account, procs.provider), account, bid, [cidr]))
    return {"visited": marks.read_text().split("\n")[:-1], "exits": exits, "cidr": cidr,
            "status": procs.status(bid), "records": found,
            "vpc_routes": procs.vpc_routes_to(cidr)}  # fmt: skip


def _check(result: dict[str, object], wanted: list[str]) -> None:
    cidr = str(result["cidr"])
    assert set(result["visited"]) >= {s.format(cidr=cidr) for s in wanted}, result  # type: ignore[call-overload]
    exits = result["exits"]
    assert isinstance(exits, list)
    assert exits[:-1] == [CRASH_EXIT] * (len(exits) - 1), result
    assert (result["status"], result["records"], result["vpc_routes"]) == (
        ACTIVE,
        ACTIVE_ONE_CIDR,
        1,
    ), result


def test_killed_after_every_recorded_step_and_restarted(procs: ProcStack) -> None:
    _check(_chain(procs, "after", 1), STEPS)


def test_killed_inside_every_aws_step_before_it_is_recorded(procs: ProcStack) -> None:
    # Not in parallel with the other chain: a restarted worker's workflows are re-enqueued
    # on DBOS's shared internal queue, so another chain's live worker could run (and crash
    # at) them; that is right for production, but it would mix the two chains' boundaries.
    _check(_chain(procs, "inside", 2), AWS_STEPS)
