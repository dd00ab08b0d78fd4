"""Two creates with overlapping CIDRs on one TGW, at the same time: exactly one is stored.

The race: both validate against the same committed rows, then both insert. The per-region
lock (:func:`service.lock_region`) makes validation + insert one critical section. The test
widens the window (validation holds on a little after it passed) so that without the lock
both would pass; it runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from linkplane.attachments import service
from linkplane.attachments.models import Breakout
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.context import open_context
from linkplane.db import transaction
from linkplane.errors import InvalidInput
from linkplane.regions.models import Region
from linkplane.settings import Settings
from linkplane.tenancy.models import Organisation
from linkplane.tenancy.principal import Principal, Role

REGION = "eu-central-1"


def _seed(factory: Any) -> int:
    with transaction(factory) as session:
        session.add(Region(
            name=REGION, account_id="111111111111", tgw_id="tgw-race", tgw_arn="arn:tgw-race",
            core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-cust",
            core_vpc_id="vpc-core", core_vpc_cidr="10.255.0.0/16", core_attachment_id="att-c",
            device_cidr="100.64.0.0/10",
        ))  # fmt: skip
        org = Organisation(name=f"race-{time.monotonic_ns()}")
        session.add(org)
        session.flush()
        return org.id


def _slow_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    real: Callable[..., Any] = service.validate_cidrs

    def slow(**kwargs: Any) -> Any:
        result = real(**kwargs)
        time.sleep(0.4)  # widens the race window: the other create validates meanwhile
        return result

    monkeypatch.setattr(service, "validate_cidrs", slow)


def _create(factory: Any, settings: Settings, org_id: int, account: str, cidr: str) -> str:
    principal = Principal(user_id=None, org_id=org_id, role=Role.ADMIN)
    data = BreakoutTgwCreate(name="race", vpc_cidr=[cidr], region=REGION, aws_account_id=account)
    try:
        with transaction(factory) as session:
            service.create_tgw(session=session, settings=settings, principal=principal, data=data)
    except InvalidInput as exc:
        return f"invalid {exc.field}"
    return "created"


def test_concurrent_overlapping_creates_store_one(
    any_db_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = open_context(any_db_settings)
    try:
        org_id = _seed(ctx.sessionmaker)
        _slow_validation(monkeypatch)
        results: list[str] = []
        start = threading.Barrier(2)

        def run(account: str, cidr: str) -> None:
            start.wait()
            results.append(_create(ctx.sessionmaker, any_db_settings, org_id, account, cidr))

        threads = [
            threading.Thread(target=run, args=("222222222222", "10.77.0.0/24")),
            threading.Thread(target=run, args=("333333333333", "10.77.0.0/25")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results) == ["created", "invalid vpc_cidr[0]"]
        with ctx.sessionmaker() as session:
            rows = session.query(Breakout).filter(Breakout.org_id == org_id).all()
        assert len(rows) == 1
    finally:
        ctx.close()
