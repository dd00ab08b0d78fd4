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

import threading

from dbos._error import DBOSInitializationError

from linkplane.durable.runtime import Runtime, Service
from linkplane.errors import Conflict
from linkplane.logs import get_logger
from linkplane.process import hooks
from linkplane.process.base import open_migrated, process_settings

log = get_logger(__name__)


def _reconciler(rt: Runtime) -> Service:
    from linkplane.cloud.factory import make_cloud
    from linkplane.isolation.reconcile import Reconciler

    settings = rt.settings
    return Reconciler(settings=settings, factory=rt.sessions,
                      interval=settings.reconcile_interval_seconds,
                      cloud_for=lambda region: make_cloud(settings, region))  # fmt: skip


def _callback_worker(rt: Runtime) -> Service:
    from linkplane.callbacks.worker import CallbackWorker

    return CallbackWorker(factory=rt.sessions, settings=rt.settings)


def run(stop: threading.Event) -> None:
    """Run a worker until ``stop`` is set."""
    settings = process_settings()
    ctx = open_migrated(settings)
    try:
        rt = Runtime.build(settings, ctx.sessionmaker, migrate_system_database=False)
        hooks.register_reserved_cidrs()
        hooks.install_workflows(rt)
        rt.add_service(_callback_worker)  # MO SMS to API callbacks (leases: several workers)
        if settings.reconcile_interval_seconds:
            rt.add_service(_reconciler)
        try:
            rt.launch()
        except DBOSInitializationError as exc:
            raise Conflict(f"the workflow system database is not ready ({exc}): run "
                           "`linkplane migrate` first") from exc  # fmt: skip
        log.info("worker ready", executor_id=rt.executor_id)
        try:
            stop.wait()
        finally:
            rt.shutdown()
    finally:
        ctx.close()
