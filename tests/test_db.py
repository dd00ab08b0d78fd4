from __future__ import annotations

from sqlalchemy import inspect

from linkplane.context import AppContext
from linkplane.db import migrate


def test_migrations_reach_head_and_are_idempotent(ctx: AppContext) -> None:
    migrate(ctx.engine)  # a second run changes nothing
    tables = set(inspect(ctx.engine).get_table_names())
    assert {"alembic_version", "organisation", "event"} <= tables
    with ctx.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
