"""What every long-running process kind does first: settings, logging, the database."""

from __future__ import annotations

import signal
import threading

from linkplane.context import AppContext, load_settings
from linkplane.db import make_engine, make_sessionmaker, private_dir, private_files
from linkplane.logs import configure
from linkplane.process.migrate import check_schema
from linkplane.settings import Settings


def process_settings() -> Settings:
    """Settings from the environment alone (``LINKPLANE_*``), logging configured by them;
    files this process writes are private to its user."""
    private_files()
    settings = load_settings()
    configure(settings.log_level, json=settings.log_json)
    return settings


def open_migrated(settings: Settings, **pool: int) -> AppContext:
    """The application database, refused unless ``linkplane migrate`` brought it up to date
    (``serve`` and ``worker`` never change the schema under other processes); ``pool``:
    sizes for :func:`~linkplane.db.make_engine`."""
    private_dir(settings.data_dir)
    engine = make_engine(settings.effective_database_url, **pool)
    try:
        check_schema(engine)
    except Exception:
        engine.dispose()
        raise
    return AppContext(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))


def open_background(settings: Settings) -> AppContext:
    """The application database for background work (workflow steps and loops), on a pool
    of its own: a burst of API requests cannot starve the heartbeat or the watcher, nor
    can a burst of workflow steps take the connections of admitted requests."""
    size = settings.background_pool_size
    engine = make_engine(settings.effective_database_url, pool_size=size, max_overflow=size)
    return AppContext(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (the process then stops everything in order)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop
