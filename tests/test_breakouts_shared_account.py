"""Issue 13 item 6: one AWS account claimed by several organisations.

Before: org B asking for a breakout to an account org A already used got "breakout <A's id>
for account … is still being provisioned" (A's id leaked) and any tenant could block any
account per region by naming it. Now the key is account + region + organisation; across
organisations the account's own answer to each breakout's invitation decides, and breakouts
that the account accepted take turns for its attachments (docs/cloud-connect.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from linkplane.attachments import service
from linkplane.attachments.models import Breakout, Status
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.context import open_context
from linkplane.db import transaction, utcnow
from linkplane.errors import Conflict
from linkplane.events.models import Event
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal, Role
from tests.api_harness import Harness, Org, build
from tests.api_resources.breakouts import REGION, _region

ACCOUNT = "555555555555"


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("shared-account"))
    ctx = open_context(settings)
    with TestClient(create_app(settings, ctx.sessionmaker)) as client:
        harness = build(client, settings, ctx.sessionmaker)
        _region(harness)
        yield harness
    ctx.close()


def _create(h: Harness, org: Org, cidr: str, account: str = ACCOUNT) -> int:
    data = BreakoutTgwCreate(name=h.unique("bo"), region=REGION, vpc_cidr=[cidr],
                             aws_account_id=account)  # fmt: skip
    who = Principal(user_id=org.admin_id, org_id=org.id, role=Role.ADMIN)
    with transaction(h.factory) as session:
        return service.create_tgw(session=session, settings=h.settings, principal=who,
                                  data=data).id  # fmt: skip


def test_another_organisation_can_claim_the_same_account(h: Harness) -> None:
    first = _create(h, h.owner, "10.210.0.0/24")
    second = _create(h, h.other, "10.210.1.0/24")  # refused before, naming `first`
    assert second != first
    with transaction(h.factory) as session:
        texts = session.scalars(select(Event.description).where(Event.org_id == h.other.id))
        assert not any(f"breakout {first}" in t for t in texts)


def test_the_same_organisation_still_gets_one_waiting_breakout_per_account(h: Harness) -> None:
    account = "555555555556"
    mine = _create(h, h.owner, "10.211.0.0/24", account)
    with pytest.raises(Conflict, match=f"your breakout {mine} for account {account}"):
        _create(h, h.owner, "10.211.1.0/24", account)
    _create(h, h.other, "10.211.2.0/24", account)  # another organisation is not blocked


def _accept(h: Harness, breakout_id: int, minutes_ago: int) -> None:
    with transaction(h.factory) as session:
        row = session.get(Breakout, breakout_id)
        assert row is not None
        row.status_id = Status.PENDING_AWS_ACTIVATION
        row.accept_attachment_expiry_date = utcnow() + timedelta(days=7, minutes=-minutes_ago)


def _turn(h: Harness, breakout_id: int) -> bool:
    with transaction(h.factory) as session:
        return service.attachment_turn(session, breakout_id)


def test_accepted_breakouts_of_one_account_take_turns_for_attachments(h: Harness) -> None:
    account = "555555555557"
    squatter = _create(h, h.other, "10.212.0.0/24", account)  # invitation never accepted
    owner = _create(h, h.owner, "10.212.1.0/24", account)
    _accept(h, owner, minutes_ago=1)
    assert _turn(h, owner), "a claim the account never accepted must not block anybody"

    later = _create(h, h.other, "10.212.2.0/24", "555555555558")
    with transaction(h.factory) as session:  # the same account, accepted after `owner`
        row = session.get(Breakout, later)
        assert row is not None
        row.aws_account_id = account
    _accept(h, later, minutes_ago=0)
    assert _turn(h, owner) and not _turn(h, later)

    with transaction(h.factory) as session:  # `owner` claimed its attachment: next in line
        row = session.get(Breakout, owner)
        assert row is not None
        row.attachment_id = "tgw-attach-owner"
    assert _turn(h, later)
    assert squatter
