"""Where DBOS keeps its state and how it is configured; creating or upgrading that state.

- System database: ``dbos.sqlite`` in the data dir with WAL switched on (DBOS does not),
  polled every ``dbos_polling_interval_seconds``; the PostgreSQL ``database_url`` when the
  application runs on PostgreSQL (or ``dbos_system_database_url`` when set).
- ``application_version`` is pinned (setting), so a deploy with changed code recovers the
  workflows that were waiting instead of stranding them under the old code hash.
- One queue, :data:`QUEUE`, carries every workflow start from any process to the workers.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig

from linkplane.settings import Settings

APP_NAME = "linkplane"
#: The queue every workflow start goes through (``serve`` enqueues, workers dequeue).
QUEUE = "linkplane-workflows"
#: DBOS's one thread pool runs its background loops and every ``asyncio.to_thread`` of our
#: steps; unbounded by default, it grows to the peak number of blocking calls in flight
#: (300 breakouts started at once -> 230 threads kept forever). Bounded, steps queue instead.
EXECUTOR_THREADS = 32
#: DBOS's system-database pool on SQLite: every step thread plus DBOS's own loops (queue,
#: notifications, scheduler) can hold a connection. DBOS's default of 20 made steps queue for
#: a connection (py-spy: 12% of the engine's samples in the pool's wait at N = 100); SQLite
#: connections are cheap, PostgreSQL's keep DBOS's default (their slots are the server's).
SQLITE_POOL_SIZE = EXECUTOR_THREADS + 8


def system_database_url(settings: Settings) -> str:
    if settings.dbos_system_database_url:
        return settings.dbos_system_database_url
    if settings.database_url.startswith("postgresql"):
        return settings.database_url
    return f"sqlite:///{settings.data_dir / 'dbos.sqlite'}"


def _wal(url: str) -> None:
    """DBOS leaves SQLite in rollback-journal mode: slower, and its poller stalls."""
    if not url.startswith("sqlite"):
        return
    path = url.split("///", 1)[-1]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()


def engine_kwargs(url: str) -> dict[str, Any]:
    if not url.startswith("sqlite"):
        return {}
    # No pre-ping: a local file does not drop connections, and it cost a query per checkout.
    return {"connect_args": {"timeout": 30, "check_same_thread": False},
            "pool_size": SQLITE_POOL_SIZE, "pool_pre_ping": False}  # fmt: skip


def dbos_config(settings: Settings, executor_id: str, *, run_migrations: bool) -> DBOSConfig:
    url = system_database_url(settings)
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": url,
        "application_version": settings.dbos_application_version,
        "executor_id": executor_id,
        "notification_listener_polling_interval_sec": settings.dbos_polling_interval_seconds,
        "scheduler_polling_interval_sec": max(1.0, settings.breakout_sweep_interval_seconds / 2),
        "log_level": "WARNING",
        "max_executor_threads": EXECUTOR_THREADS,
        "run_migrations": run_migrations,
    }
    kwargs = engine_kwargs(url)
    if kwargs:
        config["db_engine_kwargs"] = kwargs
        config["sys_db_pool_size"] = kwargs["pool_size"]
    return config


def prepare_system_database(settings: Settings) -> str:
    """WAL for a SQLite system database; returns its URL."""
    url = system_database_url(settings)
    _wal(url)
    return url


def migrate_system_database(settings: Settings) -> str:
    """Create or upgrade DBOS's tables (idempotent; DBOS serialises concurrent migrators)."""
    url = prepare_system_database(settings)
    DBOS.migrate(url)
    return url
