"""DBOS's SQLite notification poller replaced by one query per poll (linkplane.durable.sqlite_poll):
it signals exactly the waiters whose message exists, with one statement per 500 waiters
instead of one transaction per waiter."""

from __future__ import annotations

import threading
import uuid
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from dbos._sys_db import ThreadSafeEventDict
from dbos._sys_db_sqlite import SQLiteSystemDatabase

from linkplane.durable import sqlite_poll
from tests.test_breakouts_support import Stack
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture


def _sys_db() -> Any:
    from dbos._dbos import _get_dbos_instance

    return _get_dbos_instance()._sys_db


class _Waiter:
    """What DBOS's waiter map holds per waiting recv: something to ``set``."""

    def __init__(self) -> None:
        self.woken = False

    def set(self) -> None:
        self.woken = True


def test_the_launched_runtime_polls_with_the_batched_listener(stack: Stack) -> None:
    assert version("dbos") == "3.4.0"  # the method replaced is this version's
    assert SQLiteSystemDatabase._notification_listener is sqlite_poll._poll
    assert isinstance(_sys_db(), SQLiteSystemDatabase)


def test_only_waiters_with_a_message_are_woken_with_one_statement_per_chunk(stack: Stack) -> None:
    db = _sys_db()
    ws, notes = db.tables.workflow_status, db.tables.notifications
    workflow, topic = f"poll-test-{uuid.uuid4()}", f"topic-{uuid.uuid4()}"
    with db.engine.begin() as conn:
        conn.execute(sa.insert(ws).values(workflow_uuid=workflow, status="PENDING", name="t"))
        conn.execute(sa.insert(notes).values(destination_uuid=workflow, topic=topic,
                                             message="m"))  # fmt: skip
    waiting = ThreadSafeEventDict()
    wanted, other_topic = _Waiter(), _Waiter()
    waiting.add("a", wanted, (workflow, topic, None))  # type: ignore[arg-type]
    waiting.add("b", other_topic, (workflow, "another", None))  # type: ignore[arg-type]
    strangers = [_Waiter() for _ in range(sqlite_poll.CHUNK + 100)]
    for k, w in enumerate(strangers):
        waiting.add(f"s{k}", w, (f"nobody-{k}", topic, None))  # type: ignore[arg-type]
    fake = SimpleNamespace(engine=db.engine, tables=db.tables, notifications_map=waiting,
                           workflow_events_map=ThreadSafeEventDict(),
                           streams_map=ThreadSafeEventDict())  # fmt: skip
    mine, statements = threading.get_ident(), []

    def count(*_: Any) -> None:
        if threading.get_ident() == mine:  # not the live poller's own queries
            statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert sqlite_poll.signal_waiters(fake) == 1
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        with db.engine.begin() as conn:
            conn.execute(sa.delete(notes).where(notes.c.destination_uuid == workflow))
            conn.execute(sa.delete(ws).where(ws.c.workflow_uuid == workflow))
    assert wanted.woken and not other_topic.woken
    assert not any(w.woken for w in strangers)
    assert len(statements) == 2  # 602 waiting workflows: two chunks, not 602 transactions


def test_a_consumed_message_wakes_nobody(stack: Stack) -> None:
    db = _sys_db()
    ws, notes = db.tables.workflow_status, db.tables.notifications
    workflow, topic = f"poll-test-{uuid.uuid4()}", "t"
    with db.engine.begin() as conn:
        conn.execute(sa.insert(ws).values(workflow_uuid=workflow, status="PENDING", name="t"))
        conn.execute(sa.insert(notes).values(destination_uuid=workflow, topic=topic,
                                             message="m", consumed=True))  # fmt: skip
    waiting, waiter = ThreadSafeEventDict(), _Waiter()
    waiting.add("a", waiter, (workflow, topic, None))  # type: ignore[arg-type]
    fake = SimpleNamespace(engine=db.engine, tables=db.tables, notifications_map=waiting,
                           workflow_events_map=ThreadSafeEventDict(),
                           streams_map=ThreadSafeEventDict())  # fmt: skip
    try:
        assert sqlite_poll.signal_waiters(fake) == 0
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.delete(ws).where(ws.c.workflow_uuid == workflow))
    assert not waiter.woken
