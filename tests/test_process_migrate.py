"""``linkplane migrate`` and the schema check of ``serve``/``worker`` (SQLite here; the
PostgreSQL proof runs the same commands as processes: tests/test_production_processes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from linkplane.db import make_engine
from linkplane.durable.config import system_database_url
from linkplane.errors import Conflict
from linkplane.process.migrate import check_schema, run_migrations
from linkplane.settings import Settings


def test_serve_and_worker_refuse_a_database_before_migrate_then_accept_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(settings.effective_database_url)
    try:
        with pytest.raises(Conflict, match=r"has no linkplane schema.*run `linkplane migrate`"):
            check_schema(engine)
        first = run_migrations(settings)
        assert run_migrations(settings) == first  # idempotent
        check_schema(engine)
    finally:
        engine.dispose()
    # DBOS's tables and the workflow queue exist too (serve may enqueue before any worker).
    system = sa.create_engine(system_database_url(settings))
    try:
        with system.connect() as conn:
            queues = conn.execute(sa.text("SELECT name FROM queues")).scalars().all()
    finally:
        system.dispose()
    assert "linkplane-workflows" in queues


def test_a_schema_behind_the_code_is_refused_and_a_newer_one_tolerated(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    run_migrations(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0006_usage'"))
        with pytest.raises(Conflict, match="is at schema 0006_usage"):
            check_schema(engine)
        with engine.begin() as conn:  # a later version migrated it while this one runs
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_future'"))
        check_schema(engine)
    finally:
        engine.dispose()
