"""What one sweep pass leaves in DBOS's system database must not grow with the breakouts in
flight (issue 15: 10,000 breakouts waiting for their customers).

DBOS keeps every step's recorded output. The search for stranded breakouts used to record
every breakout in flight twice and DBOS's status of each workflow, on every pass (every 30 s
by default): ~0.5 KB per waiting breakout per pass, kept for good (this test measured 10,364
characters for its 20 breakouts before the change, 0 after). Now one step records only the
repairs it found.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from dbos import DBOS

from linkplane.durable.config import system_database_url
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture

#: Breakouts added in flight between the two passes.
ADDED = 20
#: Characters a pass may record per added breakout in flight: a recorded row costs ~100+.
MAX_CHARS_PER_BREAKOUT = 10


def _sweep_outputs(stack: Stack) -> int:
    """Run one sweep pass; the characters of its recorded step outputs."""
    return sum(len(out or "") for _, out in _sweep_pass(stack))


def _sweep_pass(stack: Stack) -> list[tuple[str, str | None]]:
    """Run one sweep pass; (step name, recorded output) of each of its steps."""
    from linkplane.attachments.workflows.sweep import sweep

    handle = DBOS.start_workflow(sweep, datetime.now(UTC), None)
    handle.get_result()
    url = system_database_url(stack.settings)
    table = "dbos.operation_outputs" if url.startswith("postgresql") else "operation_outputs"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT function_name, output FROM {table} "
                                        "WHERE workflow_uuid = :w"),
                                {"w": handle.get_workflow_id()}).all()  # fmt: skip
    finally:
        engine.dispose()
    assert rows, "the sweep pass recorded no step"
    return [(name, out) for name, out in rows]


def test_a_sweep_pass_records_nothing_per_breakout_in_flight(stack: Stack) -> None:
    before = _sweep_outputs(stack)
    ids = [stack.create(new_account(), new_cidrs())["id"] for _ in range(ADDED)]
    for bid in ids:  # in flight: shared, waiting for a customer who never acts
        stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    after = _sweep_outputs(stack)
    assert after - before <= ADDED * MAX_CHARS_PER_BREAKOUT, (before, after)
    # The pass still looked at them: none was stranded, so none was touched.
    assert all(stack.get(bid)["status"]["id"] == 1 for bid in ids)


def test_a_sweep_pass_looks_at_active_breakouts_per_tgw_not_per_breakout(stack: Stack) -> None:
    """Noticing detached attachments lists each TGW's attachments in one step per region and
    records only the gone ones: more Active breakouts add no step and no recorded output (one
    describe step per Active breakout was 333 reads/s at 10,000 against a 20/s budget)."""
    _active(stack)  # the region has an Active breakout: its check runs in both passes
    before = _sweep_pass(stack)
    for _ in range(3):
        _active(stack)
    after = _sweep_pass(stack)
    assert sorted(name for name, _ in after) == sorted(name for name, _ in before)
    assert sum(len(out or "") for _, out in after) == sum(len(out or "") for _, out in before)
    assert [name for name, _ in after if name.startswith("detached ")]  # the check still ran


def _active(stack: Stack) -> None:
    account, cidrs = new_account(), new_cidrs()
    bid = stack.create(account, cidrs)["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    stack.attach(account)
    stack.status(bid, 5)
