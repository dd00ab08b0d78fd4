"""Database plumbing: declarative base, engine and session factories, schema migration.

Engines are created by :func:`make_engine` when asked, never at import time. SQLite gets WAL
and a busy timeout so the API, the workers and CLI commands can share one file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def like_contains(column: Any, text: str, *, case_sensitive: bool = False) -> ColumnElement[bool]:
    """``column`` contains ``text`` literally: ``%``, ``_`` and ``\\`` in a user's search are
    characters, not LIKE wildcards (``_`` would match anything, ``%`` everything)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    found: ColumnElement[bool] = (
        column.like(pattern, escape="\\")
        if case_sensitive
        else column.ilike(pattern, escape="\\")
    )
    return found


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


#: Files of a data directory hold password and token hashes and the signing key.
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def private_files() -> None:
    """Every file this process creates from now on is its owner's only (umask 077): SQLite
    databases and their -wal/-shm, DBOS's database, snapshots, keys and logs alike."""
    os.umask(0o077)


def private_dir(path: Path) -> None:
    """Create or tighten a data directory to mode 0700 (others may not even list it)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)


def _private_sqlite(path: Path) -> None:
    """The database file exists with mode 0600 before SQLite opens it (SQLite gives its
    -wal and -shm files the database's mode); an older 0644 file is tightened."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    # Never open a database that exists: closing any descriptor of a SQLite file drops every
    # POSIX lock this process holds on it, and another engine of this process (up has two
    # pools) may have it open: the database was corrupted ("disk image is malformed").
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    for part in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if part.exists():
            os.chmod(part, PRIVATE_FILE)


def make_engine(url: str, *, pool_size: int | None = None, max_overflow: int | None = None
                ) -> Engine:  # fmt: skip
    """An engine whose pool holds ``pool_size`` connections (+ ``max_overflow`` at peaks).

    Callers that serve requests or run background loops size it for what shares it
    (:func:`api_pool`; ``settings.background_pool_size``); others (CLI commands) get the
    defaults, 5 + 10 on SQLite and 10 + 20 on PostgreSQL.
    """
    sqlite = url.startswith("sqlite")
    pool = {"pool_size": pool_size or (5 if sqlite else 10),
            "max_overflow": (10 if sqlite else 20) if max_overflow is None else max_overflow}
    if sqlite:
        path = url.split("///", 1)[-1]
        in_memory = url == "sqlite://" or not path or path == ":memory:"  # no pool to size
        if not in_memory:
            _private_sqlite(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               **({} if in_memory else pool))  # fmt: skip
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def api_pool(max_concurrent_requests: int) -> dict[str, int]:
    """Pool sizes for an API process admitting ``max_concurrent_requests`` at once
    (:mod:`linkplane.api.admission`): one connection each, plus a few for the requests that
    open a second transaction (sign-in counting failures) and the operations endpoints."""
    return {"pool_size": max_concurrent_requests + 4, "max_overflow": 4}


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back whole on any error."""
    with factory() as session, session.begin():
        yield session


#: Any constant: the PostgreSQL advisory lock key under which migrations run.
_MIGRATION_LOCK_KEY = 0x6C696E6B  # "link"


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on a file next to a SQLite database, held until after the commit
    (DDL on SQLite does not take the write lock early enough on its own)."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    import fcntl

    with open(f"{path}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name`` (the same in every process)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(factory: sessionmaker[Session], name: str) -> Iterator[bool]:
    """Whether this process holds the installation-wide lock ``name`` for the block.

    On PostgreSQL, a session-level advisory lock on a connection held for the block: of
    several worker processes running the same periodic pass, one gets True and the others
    skip the pass, and a killed holder's lock ends with its connection. On SQLite one
    process serves the database (``up``), so the answer is always True.
    """
    with factory() as session:
        bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = _lock_key(name)
    # A connection of its own, held for the block: a session would hand its connection back
    # to the pool at commit, and the next user of that connection would hold the lock too.
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def migrate(engine: Engine, *, signing_key: Callable[[], str] | None = None) -> None:
    """Bring the schema to the newest Alembic revision (idempotent, safe to run concurrently).
    ``signing_key``: the installation's key, for migrations that seal or unseal stored
    secrets (called only if such rows exist)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    # One migrator at a time: ``up`` and CLI commands may open a fresh database together.
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # released by the commit
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
        cfg.attributes["connection"] = conn
        cfg.attributes["signing_key"] = signing_key
        command.upgrade(cfg, "head")
