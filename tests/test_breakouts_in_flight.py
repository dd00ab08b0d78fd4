"""``records.in_flight``, what every sweep pass reads: the restart cap still holds per row,
and the rows' restart counts are read in one query, not one per row (the sweep with 5,000
breakouts waiting for their shares made 5,000 counts a pass)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from linkplane.attachments import records, service
from linkplane.attachments.models import Breakout, Status
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.tenancy.principal import Principal
from tests.test_breakouts_cidr_index import _create, admin

__all__ = ["admin"]


@contextmanager
def _statements(ctx: AppContext) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(ctx.engine, "before_cursor_execute", count)


def _restarted(ctx: AppContext, breakout_id: int, times: int) -> None:
    with transaction(ctx.sessionmaker) as session:
        row = session.get(Breakout, breakout_id)
        assert row is not None
        for _ in range(times):
            service.transition(session=session, row=row, to=Status.PENDING_CUSTOMER_ACTION,
                               reason="test", event_type=records.RESTARTED)  # fmt: skip


def test_the_restart_cap_holds_per_row_with_one_count_query(
    ctx: AppContext, admin: Principal
) -> None:
    ids = [_create(ctx, admin, i, [f"10.2.{i}.0/24"]).id for i in range(30)]
    _restarted(ctx, ids[3], records.MAX_RESTARTS)
    _restarted(ctx, ids[4], records.MAX_RESTARTS - 1)
    with transaction(ctx.sessionmaker) as session:
        shared = session.get(Breakout, ids[5])
        assert shared is not None
        shared.share_arn = "arn:aws:ram:eu-central-1:123456789012:resource-share/x"
    with ctx.sessionmaker() as session, _statements(ctx) as seen:
        rows = {r.breakout_id: r for r in records.in_flight(session)}
    assert sorted(rows) == ids
    assert not rows[ids[3]].restartable  # its restarts are used up
    assert not rows[ids[5]].restartable  # it made something
    assert all(rows[b].restartable for b in ids if b not in (ids[3], ids[5]))
    counts = [s for s in seen if "FROM event" in s]
    assert len(counts) == 1, counts  # one grouped count for the 29 fresh rows
    with ctx.sessionmaker() as session:  # the single-row path agrees
        assert records.restartable(session.get(Breakout, ids[4])) is True
        assert records.restartable(session.get(Breakout, ids[3])) is False


def test_counts_are_read_in_chunks(ctx: AppContext, admin: Principal, monkeypatch: Any) -> None:
    ids = [_create(ctx, admin, i, [f"10.3.{i}.0/24"]).id for i in range(5)]
    for bid in ids[:3]:
        _restarted(ctx, bid, 1)
    monkeypatch.setattr(service, "EVENT_COUNT_CHUNK", 2)
    with ctx.sessionmaker() as session:
        counts = service.count_events_of(session=session, ids=ids, event_type=records.RESTARTED)
    assert counts == {ids[0]: 1, ids[1]: 1, ids[2]: 1}
