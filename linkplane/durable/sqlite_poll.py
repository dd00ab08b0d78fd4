"""DBOS's SQLite notification poller, one query per poll instead of one per waiter.

On SQLite DBOS has no LISTEN/NOTIFY: every ``dbos_polling_interval_seconds`` its listener
looks for each waiting ``recv`` (and ``get_event``, stream read) in its own transaction.
A parked breakout waits in a ``recv``, so 1,000 of them cost 5,000 transactions a second at
0.2 s, and a poller that cannot keep up wakes everyone later (py-spy: 7% of the engine's
time at N = 100, growing with the waiters). Here one statement per table
(chunked: SQLite's parameter limit) finds every waiter that has something, and sets those
waiters' events, exactly what DBOS's loop decides one by one.

PostgreSQL keeps DBOS's LISTEN/NOTIFY listener; this replaces only the SQLite class's method
of the pinned DBOS version (``dbos==3.4.0`` in pyproject.toml, checked by
tests/test_durable_sqlite_poll.py).
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from dbos._sys_db_sqlite import SQLiteSystemDatabase

from linkplane.logs import get_logger

log = get_logger(__name__)

#: Ids per ``IN`` list: well below SQLite's default limit of 32,766 bound parameters.
CHUNK = 500


def _found(conn: sa.Connection, table: sa.Table, id_col: str, key_col: str,
           ids: list[str], *extra: sa.ColumnElement[bool]) -> set[tuple[str, str]]:  # fmt: skip
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), CHUNK):
        stmt = (
            sa.select(table.c[id_col], table.c[key_col])
            .where(table.c[id_col].in_(ids[start : start + CHUNK]), *extra)
            .distinct()
        )
        found.update((row[0], row[1]) for row in conn.execute(stmt))
    return found


def signal_waiters(db: Any) -> int:
    """Set the event of every waiter whose message, event or stream row exists; the count."""
    tables = db.tables
    checks = [
        (db.notifications_map, tables.notifications, "destination_uuid", "topic",
         [tables.notifications.c.consumed == sa.false()]),
        (db.workflow_events_map, tables.workflow_events, "workflow_uuid", "key", []),
        (db.streams_map, tables.streams, "workflow_uuid", "key", []),
    ]  # fmt: skip
    signalled = 0
    with db.engine.connect() as conn:  # one connection per poll, whatever waits
        for waiters, table, id_col, key_col, extra in checks:
            waiting = waiters.snapshot()
            if not waiting:
                continue
            ids = sorted({components[0] for _, components, _ in waiting})
            found = _found(conn, table, id_col, key_col, ids, *extra)
            for _, (workflow_id, key, _shard), event in waiting:
                if (workflow_id, key) in found:
                    event.set()
                    signalled += 1
    return signalled


def _poll(db: Any) -> None:
    """The listener thread's loop (DBOS starts it at launch and stops it by the flag)."""
    interval = db._notification_listener_polling_interval_sec
    while db._run_background_processes:
        try:
            time.sleep(interval)
            signal_waiters(db)
        except Exception as exc:  # the loop must outlive a locked or closed database
            if db._run_background_processes:
                log.warning("dbos_notification_poll_failed", error=str(exc))
                time.sleep(interval)


def install() -> None:
    """Use the batched poller for every SQLite system database of this process."""
    SQLiteSystemDatabase._notification_listener = _poll
