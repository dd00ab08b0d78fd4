"""DBOS for breakout workflows: explicit launch and shutdown, and the runtime steps use.

Nothing happens at import time. A process that runs workflows (``linkplane up``, a worker,
a test session) calls :func:`launch` once and :func:`shutdown` at the end; the API process
that only starts and signals workflows is the same process in ``linkplane up``.

Choices (see docs/cloud-connect.md):

- System database: a SQLite file ``dbos.sqlite`` in the data dir with WAL switched on (DBOS
  does not), polled every ``dbos_polling_interval_seconds``; PostgreSQL when
  ``database_url`` is PostgreSQL (or ``dbos_system_database_url`` is set).
- ``application_version`` is pinned (setting), so a deploy with changed code recovers the
  workflows that were waiting instead of stranding them under the old code hash.
- Executors heartbeat into ``breakout_executor``; every executor recovers the pending
  workflows of one whose heartbeat is older than ``executor_dead_after_seconds``
  (DBOS re-enqueues them; the queue hands each to exactly one live executor).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments.models import BreakoutExecutor
from linkplane.cloud.port import CloudPort
from linkplane.db import transaction, utcnow
from linkplane.logs import get_logger
from linkplane.settings import Settings

if TYPE_CHECKING:
    from linkplane.attachments.watcher import Watcher

log = get_logger(__name__)

CloudFactory = Callable[[str], CloudPort]
#: DBOS's one thread pool runs its background loops and every ``asyncio.to_thread`` of our
#: steps; unbounded by default, it grows to the peak number of blocking calls in flight
#: (300 breakouts started at once -> 230 threads kept forever). Bounded, steps queue instead.
EXECUTOR_THREADS = 32
F = TypeVar("F", bound=Callable[..., Any])


def workflow(name: str) -> Callable[[F], F]:
    """``DBOS.workflow`` with its type kept (the dbos package is not type-checked here)."""
    return cast(Callable[[F], F], DBOS.workflow(name=name))


@dataclass
class Runtime:
    """What workflow steps need: settings, the application database, the cloud per region."""

    settings: Settings
    sessionmaker: sessionmaker[Session]
    cloud: CloudFactory
    executor_id: str


_runtime: Runtime | None = None
_heartbeat: _Heartbeat | None = None
_watcher: Watcher | None = None


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("breakout workflows are not launched: call engine.launch() first")
    return _runtime


def is_launched() -> bool:
    return _runtime is not None


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


def _sqlite_engine_kwargs(url: str) -> dict[str, Any]:
    if not url.startswith("sqlite"):
        return {}
    return {"connect_args": {"timeout": 30, "check_same_thread": False}}


def dbos_config(settings: Settings, executor_id: str) -> DBOSConfig:
    url = system_database_url(settings)
    config: DBOSConfig = {
        "name": "linkplane",
        "system_database_url": url,
        "application_version": settings.dbos_application_version,
        "executor_id": executor_id,
        "notification_listener_polling_interval_sec": settings.dbos_polling_interval_seconds,
        "scheduler_polling_interval_sec": max(1.0, settings.breakout_sweep_interval_seconds / 2),
        "log_level": "WARNING",
        "max_executor_threads": EXECUTOR_THREADS,
    }
    kwargs = _sqlite_engine_kwargs(url)
    if kwargs:
        config["db_engine_kwargs"] = kwargs
    return config


class RegionClouds:
    """One AWS adapter per region, shared by every step of this process for a while.

    Building an adapter costs a boto3 session, its clients and (embedded cloud) an STS
    assume-role: when every step built its own, that was a quarter of the engine's CPU with
    300 breakouts waiting. The adapter is thread-safe (boto3 clients are; the session is
    made under a lock). It is rebuilt after ``ttl`` seconds so credentials an assume-role
    handed out are renewed, and on :meth:`clear` (the embedded cloud was reset).
    """

    def __init__(self, make: CloudFactory, ttl: float) -> None:
        self._make, self._ttl = make, ttl
        self._ports: dict[str, tuple[CloudPort, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str) -> CloudPort:
        now = time.monotonic()
        with self._lock:
            cached = self._ports.get(region)
            if cached is not None and now - cached[1] < self._ttl:
                return cached[0]
        port = self._make(region)  # outside the lock: no I/O happens here anyway
        with self._lock:
            self._ports[region] = (port, now)
        return port

    def clear(self) -> None:
        with self._lock:
            self._ports.clear()


def default_cloud_factory(settings: Settings) -> CloudFactory:
    def make(region: str) -> CloudPort:
        from linkplane.cloud.factory import make_cloud

        port: CloudPort = make_cloud(settings, region)
        return port

    return RegionClouds(make, settings.cloud_adapter_ttl_seconds)


def forget_clouds() -> None:
    """Drop the cached adapters (after the embedded cloud forgot its assumed roles)."""
    if _runtime is not None and isinstance(_runtime.cloud, RegionClouds):
        _runtime.cloud.clear()


def launch(
    settings: Settings,
    *,
    factory: sessionmaker[Session],
    cloud: CloudFactory | None = None,
    schedule_sweep: bool = True,
) -> Runtime:
    """Launch DBOS and the breakout workflows in this process (once; idempotent)."""
    global _runtime, _heartbeat
    if _runtime is not None:
        return _runtime
    from linkplane.attachments import workflows  # registers the workflow functions

    executor_id = settings.dbos_executor_id or f"{socket.gethostname()}-{os.getpid()}"
    _runtime = Runtime(settings, factory, cloud or default_cloud_factory(settings), executor_id)
    _wal(system_database_url(settings))
    DBOS(config=dbos_config(settings, executor_id))
    DBOS.launch()
    _register_reserved_cidrs()
    if schedule_sweep:
        workflows.schedule_sweep(  # type: ignore[attr-defined,unused-ignore]
            settings.breakout_sweep_interval_seconds)
    _heartbeat = _Heartbeat(_runtime)
    _heartbeat.beat_and_recover()
    _heartbeat.start()
    _start_watcher(_runtime)
    return _runtime


def _start_watcher(rt: Runtime) -> None:
    global _watcher
    if rt.settings.breakout_watch_interval_seconds <= 0:
        return
    from linkplane.attachments.watcher import Watcher

    _watcher = Watcher(interval=rt.settings.breakout_watch_interval_seconds,
                       sessions=rt.sessionmaker, cloud=rt.cloud)  # fmt: skip
    _watcher.start()


def shutdown() -> None:
    """Stop the heartbeat and DBOS; waiting workflows stay recorded and resume at next launch."""
    global _runtime, _heartbeat, _watcher
    if _watcher is not None:
        _watcher.stop()
        _watcher = None
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None
    if _runtime is not None:
        DBOS.destroy(destroy_registry=False)
        _runtime = None


def _register_reserved_cidrs() -> None:
    from linkplane.addressing.service import register_reserved_cidr_source
    from linkplane.attachments.service import reserved_cidr_source

    register_reserved_cidr_source(reserved_cidr_source)


class _Heartbeat:
    """This executor's liveness row, and the recovery of executors that stopped beating.

    A supervised thread (started by :func:`launch`, joined by :func:`shutdown`), not
    fire-and-forget work: it only writes a timestamp and triggers DBOS recovery.
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="breakout-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._rt.settings.executor_heartbeat_seconds):
            try:
                self.beat_and_recover()
            except Exception:  # a failed beat must not kill the loop; the next one retries
                log.exception("breakout executor heartbeat failed")

    def beat_and_recover(self) -> list[str]:
        rt = self._rt
        with transaction(rt.sessionmaker) as session:
            row = session.get(BreakoutExecutor, rt.executor_id)
            if row is None:
                row = BreakoutExecutor(executor_id=rt.executor_id)
                session.add(row)
            row.application_version = rt.settings.dbos_application_version
            row.last_seen = utcnow()
        return recover_dead_executors(rt)


def recover_dead_executors(rt: Runtime) -> list[str]:
    """Recover the pending workflows of every executor whose heartbeat went stale.

    The stale row is deleted first and only the executor whose delete hit the row recovers,
    so two live executors do not both recover (DBOS's re-enqueue is idempotent anyway).
    """
    cutoff = utcnow() - timedelta(seconds=rt.settings.executor_dead_after_seconds)
    with rt.sessionmaker() as session:
        stale = session.scalars(
            select(BreakoutExecutor.executor_id).where(BreakoutExecutor.last_seen < cutoff)
        ).all()
    recovered: list[str] = []
    for executor_id in stale:
        if executor_id == rt.executor_id or not _claim(rt, executor_id, cutoff):
            continue
        handles = DBOS._recover_pending_workflows([executor_id])
        log.warning("recovered workflows of a dead executor",
                    executor_id=executor_id, workflows=len(handles))  # fmt: skip
        recovered.append(executor_id)
    return recovered


def _claim(rt: Runtime, executor_id: str, cutoff: Any) -> bool:
    with transaction(rt.sessionmaker) as session:
        result = session.execute(
            delete(BreakoutExecutor).where(
                BreakoutExecutor.executor_id == executor_id, BreakoutExecutor.last_seen < cutoff
            )
        )
        return bool(getattr(result, "rowcount", 0))
