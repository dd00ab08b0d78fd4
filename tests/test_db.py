from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from linkplane.context import AppContext
from linkplane.db import make_engine, migrate
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


# --- one pass at a time across processes ------------------------------------------------------
def test_exclusive_is_always_granted_on_sqlite(ctx: AppContext) -> None:
    from linkplane.db import exclusive

    with exclusive(ctx.sessionmaker, "x") as a, exclusive(ctx.sessionmaker, "x") as b:
        assert a and b  # one process serves a SQLite database


@pytest.mark.postgres
def test_exclusive_grants_one_holder_at_a_time_on_postgres(postgres_url: str) -> None:
    from linkplane.context import open_context
    from linkplane.db import exclusive
    from linkplane.settings import Settings

    ctx = open_context(Settings(database_url=postgres_url))
    try:
        with exclusive(ctx.sessionmaker, "test.exclusive") as first:
            assert first
            with exclusive(ctx.sessionmaker, "test.exclusive") as second:
                assert not second  # another connection holds it
            with exclusive(ctx.sessionmaker, "test.other") as other:
                assert other  # names are independent
        with exclusive(ctx.sessionmaker, "test.exclusive") as again:
            assert again  # released with the block
    finally:
        ctx.close()


@pytest.mark.postgres
def test_a_reconciler_skips_its_pass_while_another_holds_the_lock(postgres_url: str) -> None:
    from linkplane.context import open_context
    from linkplane.db import exclusive
    from linkplane.isolation.reconcile import Reconciler
    from linkplane.settings import Settings

    def no_cloud(region: str) -> Any:
        raise AssertionError(f"a skipped pass must not call AWS ({region})")

    settings = Settings(database_url=postgres_url)
    ctx = open_context(settings)
    try:
        rec = Reconciler(settings=settings, factory=ctx.sessionmaker, cloud_for=no_cloud,
                         interval=60)  # fmt: skip
        with exclusive(ctx.sessionmaker, "linkplane.reconciler") as held:
            assert held and rec.run_once() is None
    finally:
        ctx.close()


def test_the_api_pool_has_a_connection_for_every_admitted_request(tmp_path: Path) -> None:
    """Issue 13 item 1: 40 request threads shared 15 connections, and a burst deadlocked
    until the pool timeout. The API's pool is sized from the admission limit."""
    from linkplane.db import api_pool

    settings = Settings(data_dir=tmp_path, http_max_concurrent_requests=24)
    engine = make_engine(settings.effective_database_url,
                         **api_pool(settings.http_max_concurrent_requests))  # fmt: skip
    try:
        assert engine.pool.size() >= settings.http_max_concurrent_requests  # type: ignore[attr-defined]
    finally:
        engine.dispose()
