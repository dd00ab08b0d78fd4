"""DBOS's system-database pool: on SQLite every step thread and DBOS loop gets a connection
(no queueing for one), on PostgreSQL the server's slots are not taken beyond DBOS's default."""

from __future__ import annotations

from pathlib import Path

from linkplane.durable.config import EXECUTOR_THREADS, dbos_config
from linkplane.settings import Settings


def test_sqlite_pool_has_a_connection_for_every_step_thread(tmp_path: Path) -> None:
    config = dbos_config(Settings(data_dir=tmp_path), "x", run_migrations=False)
    assert config.get("sys_db_pool_size", 0) > EXECUTOR_THREADS  # type: ignore[operator]
    kwargs = config.get("db_engine_kwargs") or {}
    assert kwargs["pool_pre_ping"] is False  # a local file: no SELECT 1 per checkout


def test_postgres_keeps_dbos_default_pool(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://u@h/db")
    config = dbos_config(settings, "x", run_migrations=False)
    assert "sys_db_pool_size" not in config and "db_engine_kwargs" not in config
