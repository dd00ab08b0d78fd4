"""Recording usage (accumulate, all-or-nothing, tenancy) and the questions asked of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.errors import InvalidInput, NotFound
from linkplane.settings import Settings
from linkplane.usage import service
from linkplane.usage.models import UsageRecord
from linkplane.usage.service import UsageIn
from tests.portal.fleet import seed_fleet
from tests.test_devices_support import make_org


@dataclass
class World:
    ctx: AppContext
    acme: int
    globex: int
    acme_eps: list[int]
    globex_eps: list[int]


def _world(ctx: AppContext) -> World:
    acme = make_org(ctx.sessionmaker, "acme", seed=False)
    globex = make_org(ctx.sessionmaker, "globex", seed=False)
    return World(
        ctx, acme, globex,
        seed_fleet(ctx, acme, 3, prefix="Acme meter", serial=1),
        seed_fleet(ctx, globex, 2, prefix="Globex meter", serial=2),
    )  # fmt: skip


@pytest.fixture
def world(ctx: AppContext) -> World:
    return _world(ctx)


@pytest.fixture
def any_world(any_db_settings: Settings) -> Iterator[World]:
    context = open_context(any_db_settings)
    try:
        yield _world(context)
    finally:
        context.close()


def _record(w: World, rows: list[UsageIn], **kw: object) -> int:
    with transaction(w.ctx.sessionmaker) as session:
        return service.record_usage(session=session, rows=rows, **kw)  # type: ignore[arg-type]


def _stored(w: World) -> list[tuple[int | None, date, int, int]]:
    with w.ctx.sessionmaker() as session:
        columns = (UsageRecord.endpoint_id, UsageRecord.day)
        stmt = select(*columns, UsageRecord.bytes_tx, UsageRecord.bytes_rx).order_by(*columns)
        # This world's rows only: a PostgreSQL database is shared by the test session.
        stmt = stmt.where(UsageRecord.org_id.in_([w.acme, w.globex]))
        return [tuple(r) for r in session.execute(stmt)]  # type: ignore[misc]


def test_records_accumulate_per_endpoint_and_day_on_every_database(any_world: World) -> None:
    w, today = any_world, service.today_utc()
    ep = w.acme_eps[0]
    rows = [UsageIn(endpoint_id=ep, day=today, bytes_tx=10, bytes_rx=20)] * 2
    assert _record(w, rows) == 1  # two records of one (endpoint, day): one row
    _record(w, [UsageIn(endpoint_id=ep, day=today, bytes_tx=1, bytes_rx=2)])
    assert _stored(w) == [(ep, today, 21, 42)]
    _record(w, [UsageIn(endpoint_id=ep, day=today, bytes_tx=5, bytes_rx=5)], replace=True)
    assert _stored(w) == [(ep, today, 5, 5)]


def test_iccid_rows_find_the_endpoint_and_carry_the_org_and_sim(world: World) -> None:
    with world.ctx.sessionmaker() as session:
        from linkplane.devices.models import Endpoint
        from linkplane.sims.models import Sim

        ep = session.get(Endpoint, world.globex_eps[1])
        assert ep is not None and ep.sim_id is not None
        iccid = session.get(Sim, ep.sim_id).iccid  # type: ignore[union-attr]
    day = service.today_utc() - timedelta(days=3)
    _record(world, [UsageIn(iccid=iccid, day=day, bytes_tx=7, bytes_rx=8)])
    with world.ctx.sessionmaker() as session:
        row = session.scalars(select(UsageRecord)).one()
    assert (row.org_id, row.endpoint_id, row.sim_id) == (world.globex, ep.id, ep.sim_id)


def test_a_batch_with_any_bad_row_stores_nothing_and_names_every_line(world: World) -> None:
    today = service.today_utc()
    good = UsageIn(endpoint_id=world.acme_eps[0], day=today, bytes_tx=1, bytes_rx=1, line=2)
    bad = [
        UsageIn(endpoint_id=987654, day=today, bytes_tx=1, bytes_rx=1, line=3),
        UsageIn(endpoint_id=world.acme_eps[1], day=today, bytes_tx=-1, bytes_rx=1, line=4),
        UsageIn(
            endpoint_id=world.acme_eps[1],
            day=today + timedelta(days=1),
            bytes_tx=0,
            bytes_rx=0,
            line=5,
        ),
        UsageIn(iccid="8900000000000000000", day=today, bytes_tx=0, bytes_rx=0, line=6),
    ]
    with pytest.raises(InvalidInput) as err:
        _record(world, [good, *bad])
    msg = err.value.message
    assert msg.startswith("4 bad row(s), nothing stored") and err.value.field == "rows"
    for text in ("line 3: endpoint 987654 not found", "line 4: bytes_tx -1", "line 5: date",
                 "line 6: iccid 8900000000000000000 is not the SIM"):  # fmt: skip
        assert text in msg
    assert "line 2" not in msg and _stored(world) == []


def test_an_org_scoped_batch_cannot_reach_another_tenants_endpoint(world: World) -> None:
    row = UsageIn(endpoint_id=world.globex_eps[0], day=service.today_utc(), bytes_tx=1,
                  bytes_rx=1)  # fmt: skip
    with pytest.raises(InvalidInput, match=f"endpoint {world.globex_eps[0]} not found"):
        _record(world, [row], org_id=world.acme)
    assert _stored(world) == []


def test_daily_usage_is_zero_filled_and_per_organisation(world: World) -> None:
    today = date(2026, 3, 10)
    eps = world.acme_eps
    rows = [
        UsageIn(endpoint_id=eps[0], day=date(2026, 3, 8), bytes_tx=100, bytes_rx=900),
        UsageIn(endpoint_id=eps[1], day=date(2026, 3, 8), bytes_tx=0, bytes_rx=1000),
        UsageIn(endpoint_id=eps[0], day=date(2026, 3, 1), bytes_tx=5, bytes_rx=5),  # outside
        UsageIn(endpoint_id=world.globex_eps[0], day=date(2026, 3, 9), bytes_tx=1, bytes_rx=1),
    ]
    _record(world, rows)
    with world.ctx.sessionmaker() as session:
        daily = service.daily_usage(session=session, org_id=world.acme, days=4, today=today)
        with pytest.raises(InvalidInput) as err:
            service.daily_usage(session=session, org_id=world.acme, days=0)
    assert daily == [(date(2026, 3, 7), 0), (date(2026, 3, 8), 2000), (date(2026, 3, 9), 0),
                     (date(2026, 3, 10), 0)]  # fmt: skip
    assert err.value.field == "days"


def test_monthly_usage_counts_the_current_utc_month_of_own_endpoints(world: World) -> None:
    eps = world.acme_eps
    rows = [
        UsageIn(endpoint_id=eps[0], day=date(2026, 3, 1), bytes_tx=10, bytes_rx=20),
        UsageIn(endpoint_id=eps[0], day=date(2026, 3, 31), bytes_tx=1, bytes_rx=2),
        UsageIn(endpoint_id=eps[0], day=date(2026, 2, 28), bytes_tx=500, bytes_rx=500),
        UsageIn(endpoint_id=eps[1], day=date(2026, 2, 27), bytes_tx=1, bytes_rx=1),
        UsageIn(endpoint_id=world.globex_eps[0], day=date(2026, 3, 2), bytes_tx=9, bytes_rx=9),
    ]
    _record(world, rows)
    ids = [*eps, world.globex_eps[0]]
    with world.ctx.sessionmaker() as session:
        got = service.monthly_usage(
            session=session, org_id=world.acme, endpoint_ids=ids, today=date(2026, 3, 31)
        )
        stats = service.endpoint_stats(
            session=session, org_id=world.acme, endpoint_id=eps[0], today=date(2026, 3, 31)
        )
        org = service.org_stats(session=session, org_id=world.acme, today=date(2026, 3, 31))
        with pytest.raises(NotFound):
            service.endpoint_stats(
                session=session, org_id=world.acme, endpoint_id=world.globex_eps[0]
            )
    assert got == {eps[0]: 33}  # globex's endpoint is not acme's to ask about
    assert (stats.current, stats.last) == (service.Volume(11, 22), service.Volume(500, 500))
    assert (stats.current_start, stats.last_start) == (date(2026, 3, 1), date(2026, 2, 1))
    assert org.last == service.Volume(501, 501)


def test_deleting_an_endpoint_keeps_the_organisations_history(world: World) -> None:
    from linkplane.devices import service as devices
    from linkplane.devices.schemas import EndpointUpdate, SimLink

    ep = world.acme_eps[2]
    day = service.today_utc()
    _record(world, [UsageIn(endpoint_id=ep, day=day, bytes_tx=3, bytes_rx=4)])
    with transaction(world.ctx.sessionmaker) as session:
        devices.update(session=session, org_id=world.acme, endpoint_id=ep,
                       data=EndpointUpdate(sim=SimLink(id=None)))  # fmt: skip
        devices.delete(session=session, org_id=world.acme, endpoint_id=ep)
    with world.ctx.sessionmaker() as session:
        assert service.daily_usage(session=session, org_id=world.acme, days=1) == [(day, 7)]
    assert _stored(world) == [(None, day, 3, 4)]


def test_date_ranges_follow_emnifys_defaults() -> None:
    today = date(2026, 5, 8)
    assert service.endpoint_range(None, None, today) == (date(2026, 5, 1), today)
    assert service.endpoint_range(None, date(2026, 2, 10), today) == (
        date(2026, 2, 1), date(2026, 2, 10))  # fmt: skip
    assert service.endpoint_range(date(2026, 4, 3), None, today) == (date(2026, 4, 3), today)
    assert service.org_range(date(2026, 2, 3), None, today) == (
        date(2026, 2, 3), date(2026, 2, 28))  # fmt: skip
    assert service.org_range(date(2026, 2, 3), date(2026, 2, 5), today) == (
        date(2026, 2, 3), date(2026, 2, 4))  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        service.org_range(None, date(2026, 2, 5), today)
    assert err.value.field == "end_date"
    with pytest.raises(InvalidInput) as err:
        service.endpoint_range(date(2026, 3, 1), date(2026, 2, 1), today)
    assert err.value.field == "start_date"


def test_an_hourly_start_without_end_is_that_day_even_late_in_it() -> None:
    """Asked at 23:30 for the hours since midnight: the range is that day, not a 422 about
    a span longer than a day (the end defaults to an hour after now, capped at a day)."""
    from datetime import UTC, datetime

    from linkplane.usage.stats import hourly_range

    late = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    midnight = late.replace(hour=0, minute=0)
    assert hourly_range(midnight, None, now=late) == (midnight, midnight + timedelta(days=1))
    early = late.replace(hour=1)
    assert hourly_range(midnight, None, now=early) == (midnight, early + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="at most one day"):
        hourly_range(midnight, midnight + timedelta(days=1, hours=1), now=late)
