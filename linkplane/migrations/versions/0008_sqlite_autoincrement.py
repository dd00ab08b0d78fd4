"""SQLite: every table with an integer id gets AUTOINCREMENT, so no id is ever handed out twice.

Revision ID: 0008_sqlite_autoincrement
Revises: 0007_installation

Without AUTOINCREMENT, SQLite reuses the highest id after that row is deleted: delete the
newest endpoint, create one, and it gets the same id and the deleted one's event history
(issue 12). PostgreSQL sequences never go back, so this migration does nothing there.

SQLite cannot add AUTOINCREMENT in place: each table is rebuilt (new table, copy, drop,
rename). Dropping a table with foreign keys on would run the ``ON DELETE`` actions of every
row referencing it (deleting a whole organisation's fleet), and ``PRAGMA foreign_keys`` is
ignored inside a transaction, so this follows SQLite's own procedure for such changes
(https://www.sqlite.org/lang_altertable.html#otheralter): commit, foreign keys off, rebuild
in one transaction, check the keys, commit, foreign keys on. A crash in between leaves
either the old tables or the new ones (the rebuild is one transaction), and a re-run skips
the tables that already have AUTOINCREMENT.

The counters start at the highest id the table or the audit trail has seen, so an id deleted
*before* this upgrade is not handed out again either.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008_sqlite_autoincrement"
down_revision = "0007_installation"
branch_labels = None
depends_on = None

#: Every table of revisions 0001-0007 whose primary key is one integer column, with the
#: ``entity_type`` its rows are recorded under in the audit trail (if any).
TABLES: dict[str, str | None] = {
    "organisation": "organisation",
    "region": None,
    "app_user": "user",
    "application_token": "application_token",
    "refresh_token": None,
    "service_profile": "service_profile",
    "tariff_profile": "tariff_profile",
    "ip_address_space": "ip_address_space",
    "sim": "sim",
    "endpoint": "endpoint",
    "breakout": "breakout",
    "usage_record": None,
    "event": None,
}


def _has_autoincrement(bind: sa.Connection, table: str) -> bool:
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    return sql is not None and "AUTOINCREMENT" in sql.upper()


def _highest_id(bind: sa.Connection, table: str, entity: str | None) -> int:
    ids = sa.table(table, sa.column("id"))
    highest = bind.execute(sa.select(sa.func.coalesce(sa.func.max(ids.c.id), 0))).scalar()
    if entity is not None:
        seen = bind.exec_driver_sql(
            "SELECT coalesce(max(entity_id), 0) FROM event WHERE entity_type = ?", (entity,)
        ).scalar()
        highest = max(int(highest or 0), int(seen or 0))
    return int(highest or 0)


def _rebuild(bind: sa.Connection, table: str, entity: str | None) -> None:
    start = _highest_id(bind, table, entity)
    with op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    # Copying the rows set the counter to the highest copied id; raise it to what the audit
    # trail has seen (a table without rows has no counter row yet).
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, start))


def _check_foreign_keys(bind: sa.Connection) -> None:
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken by the rebuild, nothing changed: {broken[:5]}")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL sequences never hand out an id twice
    pending = {t: e for t, e in TABLES.items() if not _has_autoincrement(bind, t)}
    if not pending:
        return
    dbapi: Any = bind.connection.driver_connection
    dbapi.commit()  # PRAGMA foreign_keys only takes effect outside a transaction
    dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        dbapi.execute("BEGIN IMMEDIATE")
        try:
            for table, entity in pending.items():
                _rebuild(bind, table, entity)
            _check_foreign_keys(bind)
        except BaseException:
            dbapi.rollback()
            raise
        dbapi.commit()
    finally:
        dbapi.execute("PRAGMA foreign_keys=ON")


def downgrade() -> None:
    """Nothing to undo: AUTOINCREMENT only changes how new ids are chosen."""
