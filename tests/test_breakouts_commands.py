"""``attachments.commands`` without DBOS: each write commits before its workflow is started or
signalled (the workflow reads the row from another session), and a refused write starts
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

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
    """What the commands asked of the workflows, and the row as another session saw it then."""

    ctx: AppContext
    seen: list[tuple[str, int, int, str, Status]] = field(default_factory=list)

    def record(self, what: str, breakout_id: int, revision: int, message: str = "") -> str:
        with self.ctx.sessionmaker() as session:
            row = session.get(Breakout, breakout_id)
            assert row is not None, f"{what}: breakout {breakout_id} not committed yet"
            self.seen.append((what, breakout_id, revision, message, row.status))
        return f"breakout-{breakout_id}-{revision}"


@pytest.fixture
def calls(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    from linkplane.attachments import workflows

    store_region(ctx.sessionmaker, REGION)
    c = Calls(ctx)
    monkeypatch.setattr(workflows, "start_provisioning", lambda i, r: c.record("start", i, r))
    monkeypatch.setattr(workflows, "start_teardown", lambda i, r: c.record("teardown", i, r))
    monkeypatch.setattr(workflows, "signal", lambda i, r, m: c.record("signal", i, r, m))
    yield c


@pytest.fixture
def admin(ctx: AppContext) -> Principal:
    return Principal(user_id=None, org_id=seed_org(ctx, "acme").id, role=Role.ADMIN)


def _request(ctx: AppContext, admin: Principal, cidr: str = "10.1.0.0/24") -> Breakout:
    data = BreakoutTgwCreate(name="backend", vpc_cidr=[cidr], region=REGION.name,
                             aws_account_id="210987654321")  # fmt: skip
    return commands.request_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                     principal=admin, data=data)  # fmt: skip


def _expire(ctx: AppContext, breakout_id: int) -> None:
    with transaction(ctx.sessionmaker) as session:
        row = session.get(Breakout, breakout_id)
        assert row is not None
        row.status_id, row.expired = Status.PENDING_AWS_ACTIVATION, True


def test_request_commits_then_starts_provisioning(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin)
    assert calls.seen == [("start", row.id, 1, "", Status.PENDING_CUSTOMER_ACTION)]
    assert row.name == "backend" and row.cidr_list == ["10.1.0.0/24"]  # usable after commit


def test_refused_request_starts_nothing(ctx: AppContext, calls: Calls, admin: Principal) -> None:
    with pytest.raises(InvalidInput):
        _request(ctx, admin, cidr="10.255.1.0/24")  # the core VPC
    assert calls.seen == []


def test_delete_signals_a_running_workflow(ctx: AppContext, calls: Calls, admin: Principal) -> None:
    row = _request(ctx, admin)
    commands.delete_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id)
    assert calls.seen[-1] == ("signal", row.id, 1, "delete", Status.DEACTIVATION_PENDING)


def test_delete_of_an_expired_one_starts_the_teardown(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin)
    _expire(ctx, row.id)
    commands.delete_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id)
    assert calls.seen[-1] == ("teardown", row.id, 1, "", Status.DEACTIVATION_PENDING)


def test_retry_commits_the_new_revision_then_starts_it(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin)
    with ctx.sessionmaker() as session:
        assert not service.retryable(service.get_breakout(
            session=session, org_id=admin.org_id, breakout_id=row.id))  # fmt: skip
    with pytest.raises(Conflict, match="can be retried"):
        commands.retry_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                principal=admin, breakout_id=row.id)  # fmt: skip
    _expire(ctx, row.id)
    again = commands.retry_breakout(factory=ctx.sessionmaker, settings=ctx.settings,
                                    principal=admin, breakout_id=row.id)  # fmt: skip
    assert again.revision == 2
    assert calls.seen[-1] == ("start", row.id, 2, "", Status.PENDING_CUSTOMER_ACTION)
    assert len(calls.seen) == 2  # the refused retry started nothing


def test_recheck_wakes_only_a_waiting_workflow(
    ctx: AppContext, calls: Calls, admin: Principal
) -> None:
    row = _request(ctx, admin)
    commands.recheck_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id)
    assert calls.seen[-1] == ("signal", row.id, 1, "recheck", Status.PENDING_CUSTOMER_ACTION)
    _expire(ctx, row.id)
    with pytest.raises(Conflict):
        commands.recheck_breakout(factory=ctx.sessionmaker, principal=admin, breakout_id=row.id)
    assert len(calls.seen) == 2
