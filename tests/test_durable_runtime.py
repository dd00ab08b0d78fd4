"""The durable runtime in one process (the breakout test stack): one retry layer for AWS
calls in workflow steps, and log lines that carry the workflow's and the breakout's ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from linkplane import logs
from linkplane.localcloud import throttle
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the process-wide fixture

PROVIDER = "111111111111"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """This process's log lines as JSON, into a buffer (restored afterwards)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    logs.configure("INFO", json=True)
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]


def test_an_aws_call_in_a_step_is_tried_exactly_aws_max_attempts_times(stack: Stack) -> None:
    """The adapter's attempts only, not times the step's (its 8 inside DBOS's 6 made 48)."""
    attempts = stack.runtime.settings.aws_max_attempts
    throttle.reset()
    throttle.inject_fault("CreateResourceShare", "InternalError", 500, 10, account_id=PROVIDER)
    try:
        bid = stack.create(new_account(), new_cidrs(1))["id"]
        data = stack.wait_for(bid, lambda d: d["status"]["id"] == 7, timeout=60)
        assert "AWS error" in data["status_reason"]
        assert throttle.pending_faults() == {"CreateResourceShare": 10 - attempts}
    finally:
        throttle.reset()


def test_log_lines_in_a_workflow_carry_its_ids_and_no_secret(
    stack: Stack, json_logs: io.StringIO
) -> None:
    throttle.reset()
    throttle.inject_fault("CreateResourceShare", "InternalError", 500, 1, account_id=PROVIDER)
    try:
        bid = stack.create(new_account(), new_cidrs(1))["id"]
        stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    finally:
        throttle.reset()
    retries = [x for x in _lines(json_logs) if x.get("event") == "aws_retry"]
    assert retries, json_logs.getvalue()[-2000:]
    assert {(x["workflow_id"], x["breakout_id"]) for x in retries} == {(f"breakout-{bid}-1", bid)}


def test_secrets_are_masked_in_our_lines_and_the_standard_librarys(
    json_logs: io.StringIO,
) -> None:
    log = logs.get_logger("test")
    log.info("signed in", password="hunter2-secret", auth_token="eyJabc", api_secret="s3",
             database="postgresql+psycopg://linkplane:pa55word@db:5432/linkplane")  # fmt: skip
    logging.getLogger("some.library").warning("connecting to %s", "postgresql://u:pw@h/db")
    ours, theirs = _lines(json_logs)[-2:]
    assert (ours["password"], ours["auth_token"], ours["api_secret"]) == ("***",) * 3
    assert ours["database"] == "postgresql+psycopg://linkplane:***@db:5432/linkplane"
    assert theirs["event"] == "connecting to postgresql://u:***@h/db"
    assert theirs["level"] == "warning" and theirs["logger"] == "some.library"
    assert "hunter2" not in json_logs.getvalue() and "pa55word" not in json_logs.getvalue()


def test_the_sign_in_housekeeping_is_scheduled_hourly(stack: Stack) -> None:
    """Every workflow process schedules it on DBOS (one executor per tick), at :17 hourly;
    the seconds-only "*/N" form of the other schedules cannot say "hourly"."""
    from datetime import datetime

    from croniter import croniter

    from linkplane.durable.runtime import Runtime
    from linkplane.process import hooks

    rt = Runtime.build(stack.settings, stack.ctx.sessionmaker)
    hooks.install_workflows(rt, sweep=False)
    (schedule,) = [s for s in rt.schedules if s.name == "sign-in-housekeeping"]
    ticks = croniter(schedule.crontab(), datetime(2026, 12, 4, 23, 0), second_at_beginning=True)
    assert [ticks.get_next(datetime) for _ in range(2)] == [
        datetime(2026, 12, 4, 23, 17), datetime(2026, 12, 5, 0, 17)]  # fmt: skip
