"""``linkplane worker``: runs workflows, the sweep, the watch, the delivery of MO SMS to API
callbacks and (when configured) the reconciler; the composition root of a worker process.

Any number of workers share the work through DBOS on one system database: each claims
queued starts (exactly one runs each), DBOS starts the sweep once per tick across them all,
and a worker that dies (SIGKILL, a lost host) is taken over by the live ones within
``executor_dead_after_seconds`` (:mod:`linkplane.durable.executors`). Workflow steps are
idempotent, so a step a dead worker ran but did not record runs again without duplicating
anything in AWS.
"""

from __future__ import annotations

import socket
import threading

from dbos._error import DBOSInitializationError

from linkplane.cloud.budget import process_limiter
from linkplane.context import AppContext
from linkplane.durable.runtime import Runtime, Service
from linkplane.errors import Conflict
from linkplane.logs import get_logger
from linkplane.process import hooks
from linkplane.process.base import open_migrated, process_settings
from linkplane.process.http import ApiThread, bind
from linkplane.settings import Settings

log = get_logger(__name__)


def _reconciler(rt: Runtime) -> Service:
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation.reconcile import Reconciler

    settings = rt.settings
    return Reconciler(settings=settings, factory=rt.sessions,
                      interval=settings.reconcile_interval_seconds,
                      cloud_for=lambda region: make_cloud(settings, region,
                                                          limiter=rt.limiter))  # fmt: skip


def _callback_worker(rt: Runtime) -> Service:
    from linkplane.callbacks.worker import CallbackWorker

    return CallbackWorker(factory=rt.sessions, settings=rt.settings)


def _policy_applier(rt: Runtime) -> Service:
    from linkplane.isolation.policy_trigger import PolicyApplier

    # Woken by this worker's own commits and, on PostgreSQL, by serve's NOTIFY.
    return PolicyApplier(settings=rt.settings, factory=rt.sessions, listen=True)


def _operations(settings: Settings, ctx: AppContext, sock: socket.socket) -> ApiThread:
    """``/health``, ``/ready`` and ``/metrics`` of this worker, on its own small port."""
    from linkplane.ops.api import create_ops_app

    return ApiThread(create_ops_app(settings, ctx.sessionmaker), sock, settings.trusted_proxies)


def run(stop: threading.Event, metrics: tuple[str, int] | None = None) -> None:
    """Run a worker until ``stop`` is set; ``metrics`` = (host, port) of its operations
    endpoints, bound before anything starts so that a busy port is a clear error."""
    settings = process_settings()
    sock = bind(*metrics, "worker's metrics", "--metrics-port") if metrics else None
    size = settings.background_pool_size
    ctx = open_migrated(settings, pool_size=size, max_overflow=size)
    ops: ApiThread | None = None
    try:
        limiter = process_limiter(settings, ctx.engine)  # one AWS budget for all workers
        rt = Runtime.build(settings, ctx.sessionmaker, migrate_system_database=False,
                           limiter=limiter)  # fmt: skip
        hooks.register_reserved_cidrs()
        hooks.install_workflows(rt)
        rt.add_service(_callback_worker)  # MO SMS to API callbacks (leases: several workers)
        rt.add_service(_policy_applier)  # fleet changes reach this host's core gateway
        if settings.reconcile_interval_seconds:
            rt.add_service(_reconciler)
        try:
            rt.launch()
        except DBOSInitializationError as exc:
            raise Conflict(f"the workflow system database is not ready ({exc}): run "
                           "`linkplane migrate` first") from exc  # fmt: skip
        if sock is not None:
            ops = _operations(settings, ctx, sock)
            ops.start()
        log.info("worker ready", executor_id=rt.executor_id)
        try:
            stop.wait()
        finally:
            rt.shutdown()
    finally:
        if ops is not None:
            ops.stop()
        elif sock is not None:
            sock.close()
        ctx.close()
