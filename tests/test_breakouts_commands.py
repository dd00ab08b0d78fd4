"""``attachments.commands`` without DBOS: each write commits before its workflow is started or
signalled (the workflow reads the row from another session), a refused write starts
nothing, a start that fails after the commit leaves the row to the sweep, and ``recheck``
repairs a breakout whose workflow is gone (the client is a recording fake)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from linkplane.attachments import commands, service
from linkplane.attachments.models import Breakout, Status
from linkplane.attachments.regions import RegionInfo
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.errors import Conflict, InvalidInput
from linkplane.tenancy.principal import Principal, Role
from tests.portal.harness import seed_org
from tests.region_support import store_region

REGION = RegionInfo(
    name="eu-central-1", tgw_id="tgw-0123456789abcdef0",
    tgw_arn="arn:aws:ec2:eu-central-1:123456789012:transit-gateway/tgw-0123456789abcdef0",
    core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-customers",
    core_attachment_id="tgw-attach-core", core_vpc_cidr="10.255.0.0/16",
)  # fmt: skip


@dataclass
class Calls:
    """A WorkflowClient that records what the commands asked, and the row as another
    session saw it then; ``known`` are the DBOS states it reports."""

    ctx: AppContext
    seen: list[tuple[str, int, int, str, Status]] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)
    fail: bool = False

    def record(self, what: str, breakout_id: int, revision: int, message: str = "") -> None:
        if self.fail:
            raise ConnectionError("system database unreachable")
        with self.ctx.sessionmaker() as session:
            row = session.get(Breakout, breakout_id)
            assert row is not None, f"{what}: breakout {breakout_id} not committed yet"
            self.seen.append((what, breakout_id, revision, message, row.status))

    def start(self, workflow: str, workflow_id: str, *args: Any) -> None:
        what = {"breakout.provision": "start", "breakout.delete": "teardown",
                "breakout.rollback": "rollback"}[workflow]  # fmt: skip
        self.record(what, args[0], args[1], str(args[2]) if len(args) > 2 else "")
        self.known.setdefault(workflow_id, "ENQUEUED")

    def send(self, workflow_id: str, message: str, topic: str) -> None:
        assert topic == "breakout"
        _, bid, rev = workflow_id.split("-")
        self.record("signal", int(bid), int(rev), message)

    def states(self, workflow_ids: list[str]) -> dict[str, str]:
        return {w: s for w, s in self.known.items() if w in workflow_ids}


@pytest.fixture
def calls(ctx: AppContext) -> Iterator[Calls]:
    store_region(ctx.sessionmaker, REGION)
    yield Calls(ctx)


@pytest.fixture
def admin(ctx: AppContext) -> Principal:
    return Principal(user_id=None, org_id=seed_org(ctx, "acme").id, role=Role.ADMIN)


def _request(ctx: AppContext, admin: Principal, calls: Calls, cidr: str = "10.1.0.0/24"
             ) -> Breakout:  # fmt: skip
    data = BreakoutTgwCreate(name="backend", vpc_cidr=[cidr], region=REGION.name,
                             aws_account_id="210987654321")  # fmt: skip
    return commands.request_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                     principal=admin, data=data, workflows=calls)  # fmt: skip


def _recheck(ctx: AppContext, admin: Principal, calls: Calls, breakout_id: int) -> Breakout:
    return commands.recheck_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                     principal=admin, breakout_id=breakout_id,
                                     workflows=calls)  # fmt: skip


def _expire(ctx: AppContext, breakout_id: int) -> None:
    with transaction(ctx.sessionmaker) as session:
        row = session.get(Breakout, breakout_id)
        assert row is not None
        row.status_id, row.expired = Status.PENDING_AWS_ACTIVATION, True


def test_request_commits_then_starts_provisioning(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    assert calls.seen == [("start", row.id, 1, "", Status.PENDING_CUSTOMER_ACTION)]
    assert row.name == "backend" and row.cidr_list == ["10.1.0.0/24"]  # usable after commit


def test_refused_request_starts_nothing(ctx: AppContext, calls: Calls, admin: Principal) -> None:
    with pytest.raises(InvalidInput):
        _request(ctx, admin, calls, cidr="10.255.1.0/24")  # the core VPC
    assert calls.seen == []


def test_delete_signals_a_running_workflow(ctx: AppContext, calls: Calls, admin: Principal) -> None:
    row = _request(ctx, admin, calls)
    commands.delete_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id,
                             workflows=calls)
    assert calls.seen[-1] == ("signal", row.id, 1, "delete", Status.DEACTIVATION_PENDING)


def test_delete_of_an_expired_one_starts_the_teardown(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    _expire(ctx, row.id)
    commands.delete_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id,
                             workflows=calls)
    assert calls.seen[-1] == ("teardown", row.id, 1, "", Status.DEACTIVATION_PENDING)


def test_retry_commits_the_new_revision_then_starts_it(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    with ctx.sessionmaker() as session:
        assert not service.retryable(service.get_breakout(
            session=session, org_id=admin.org_id, breakout_id=row.id))  # fmt: skip
    with pytest.raises(Conflict, match="can be retried"):
        commands.retry_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                principal=admin, breakout_id=row.id, workflows=calls)  # fmt: skip
    _expire(ctx, row.id)
    again = commands.retry_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                    principal=admin, breakout_id=row.id,
                                    workflows=calls)  # fmt: skip
    assert again.revision == 2
    assert calls.seen[-1] == ("start", row.id, 2, "", Status.PENDING_CUSTOMER_ACTION)
    assert len(calls.seen) == 2  # the refused retry started nothing


def test_recheck_wakes_only_a_waiting_workflow(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    _recheck(ctx, admin, calls, row.id)
    assert calls.seen[-1] == ("signal", row.id, 1, "recheck", Status.PENDING_CUSTOMER_ACTION)
    _expire(ctx, row.id)
    with pytest.raises(Conflict):
        _recheck(ctx, admin, calls, row.id)
    assert len(calls.seen) == 2


def test_a_start_that_fails_after_the_commit_leaves_the_row_to_the_sweep(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    calls.fail = True
    row = _request(ctx, admin, calls)  # no error: the row is stored
    calls.fail = False
    with ctx.sessionmaker() as session:
        assert session.get(Breakout, row.id) is not None
    # ... and a recheck (as the sweep would) starts its workflow, which never started.
    _recheck(ctx, admin, calls, row.id)
    assert calls.seen == [("start", row.id, 1, "", Status.PENDING_CUSTOMER_ACTION)]


def test_recheck_restarts_a_workflow_that_failed_before_making_anything(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    calls.known[f"breakout-{row.id}-1"] = "ERROR"
    _recheck(ctx, admin, calls, row.id)
    assert calls.seen[-1] == ("start", row.id, 2, "", Status.PENDING_CUSTOMER_ACTION)
    with ctx.sessionmaker() as session:
        stored = session.get(Breakout, row.id)
        assert stored is not None and stored.revision == 2


def test_recheck_rolls_back_a_failed_workflow_that_made_something(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin, calls)
    with transaction(ctx.sessionmaker) as session:
        stored = session.get(Breakout, row.id)
        assert stored is not None
        stored.share_arn = "arn:aws:ram:eu-central-1:123456789012:resource-share/x"
    calls.known[f"breakout-{row.id}-1"] = "ERROR"
    _recheck(ctx, admin, calls, row.id)
    what, bid, rev, why, _ = calls.seen[-1]
    assert (what, bid, rev) == ("rollback", row.id, 1) and "ended ERROR" in why


def test_audit_judges_stranded_breakouts_by_their_workflow_states(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    from sqlalchemy.exc import OperationalError

    from linkplane.isolation.service import stranded_findings

    row = _request(ctx, admin, calls)  # its workflow is queued: nothing to report
    assert stranded_findings(ctx.sessionmaker, calls) == []
    calls.known[f"breakout-{row.id}-1"] = "ERROR"
    [found] = stranded_findings(ctx.sessionmaker, calls)
    assert (found.code, found.breakout_id) == ("stranded", row.id)
    assert "no workflow works on it (its workflow ended ERROR)" in found.message

    class Unreadable(Calls):
        def states(self, workflow_ids: list[str]) -> dict[str, str]:
            raise OperationalError("SELECT", {}, Exception("no such table: workflow_status"))

    [found] = stranded_findings(ctx.sessionmaker, Unreadable(ctx))
    assert found.code == "workflow_states_unreadable" and "linkplane migrate" in found.message
