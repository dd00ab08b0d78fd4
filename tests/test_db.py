from __future__ import annotations

from sqlalchemy import inspect

from linkplane.context import AppContext
from linkplane.db import migrate
from linkplane.settings import Settings


def test_migrations_reach_head_and_are_idempotent(ctx: AppContext) -> None:
    migrate(ctx.engine)  # a second run changes nothing
    tables = set(inspect(ctx.engine).get_table_names())
    assert {"alembic_version", "organisation", "event"} <= tables
    with ctx.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def test_concurrent_first_opens_of_one_data_dir_all_succeed(settings: Settings) -> None:
    """``up`` and CLI commands may open a fresh data directory at the same moment."""
    from concurrent.futures import ThreadPoolExecutor

    from linkplane.context import open_context

    def open_and_close(_: int) -> set[str]:
        context = open_context(settings)
        try:
            return set(inspect(context.engine).get_table_names())
        finally:
            context.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(open_and_close, range(4)))
    assert all({"organisation", "region", "breakout"} <= tables for tables in results)
