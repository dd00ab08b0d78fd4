"""The durable runtime: an explicit object that a composition root builds and launches.

A :class:`Runtime` holds what workflow steps need (settings, the application database, the
cloud per region, how to start and signal workflows, the hooks features registered) and
owns DBOS in its process: launch, the workflow queue, schedules, the executor heartbeat
with its takeover of dead executors, background services, shutdown.

DBOS calls workflow functions by their registered name with only their recorded arguments,
from its own threads; such a function cannot be handed the runtime. :func:`bound_runtime` is
therefore the one place a runtime is reachable without being passed: :meth:`Runtime.launch`
binds it, each workflow function's first line reads it and passes it on explicitly to its
steps. Nothing else reads it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from dbos import DBOS
from sqlalchemy.orm import Session, sessionmaker

from linkplane.cloud.ratelimit import PROCESS_LIMITER, Limiter
from linkplane.durable import sqlite_poll
from linkplane.durable.client import BackgroundStarts, QueueClient, WorkflowClient
from linkplane.durable.clouds import CloudFactory, RegionClouds, step_clouds
from linkplane.durable.config import QUEUE, dbos_config, prepare_system_database
from linkplane.durable.executors import Heartbeat
from linkplane.durable.loop import Periodic
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class RoutingHook:
    """A step run after a breakout's routes changed (activation, teardown), e.g. the core
    packet policy. ``run`` is blocking; it runs in a worker thread as step ``name``."""

    name: str
    run: Callable[[Runtime], str]


class Service(Protocol):
    """A supervised background loop of a worker process (the watcher, the reconciler)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Schedule:
    """A workflow DBOS starts every ``every_seconds`` (once per tick across executors), or
    on ``cron`` (DBOS's six-field form, seconds first) for periods beyond a minute."""

    name: str
    workflow: Callable[..., Any]
    every_seconds: int
    cron: str | None = None

    def crontab(self) -> str:
        # "*/N" of the seconds field: every N seconds (a divisor of 60 works best).
        return self.cron or f"*/{max(1, min(59, self.every_seconds))} * * * * *"


def default_executor_id(settings: Settings) -> str:
    return settings.dbos_executor_id or f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Runtime:
    """What workflow steps are given; built by a composition root, then launched once."""

    settings: Settings
    sessions: sessionmaker[Session]
    #: The cloud port per region (adapters retry each AWS call; steps do not retry them again).
    clouds: CloudFactory
    client: WorkflowClient
    executor_id: str
    #: Client-side AWS rate limiter of the step adapters: one budget across processes on
    #: PostgreSQL (:func:`linkplane.cloud.budget.process_limiter`, as the roots pass it).
    limiter: Limiter = PROCESS_LIMITER
    routing_hooks: list[RoutingHook] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    services: list[Callable[[Runtime], Service]] = field(default_factory=list)
    #: Create or upgrade DBOS's tables at launch (``up``); production runs ``migrate``.
    migrate_system_database: bool = True
    #: Set when :meth:`shutdown` begins: steps then yield instead of failing (durable.steps).
    stopping: bool = field(default=False, init=False)
    _running: list[Service] = field(default_factory=list, init=False, repr=False)
    _heartbeat: Heartbeat | None = field(default=None, init=False, repr=False)
    _beating: Periodic | None = field(default=None, init=False, repr=False)
    _gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
        field(default_factory=weakref.WeakKeyDictionary, init=False, repr=False))  # fmt: skip

    @classmethod
    def build(cls, settings: Settings, sessions: sessionmaker[Session], **kwargs: Any) -> Runtime:
        """A runtime with the default cloud factory, queue client and executor id."""
        kwargs.setdefault("clouds", step_clouds(settings, kwargs.get("limiter")))
        if "client" not in kwargs:
            queue = QueueClient(settings)
            background = settings.workflow_starts_in_background
            kwargs["client"] = BackgroundStarts(queue) if background else queue
        kwargs.setdefault("executor_id", default_executor_id(settings))
        return cls(settings=settings, sessions=sessions, **kwargs)

    # --- registration (before launch) -------------------------------------------------------
    def on_routing_changed(self, name: str, run: Callable[[Runtime], str]) -> None:
        self.routing_hooks.append(RoutingHook(name, run))

    def schedule(
        self, name: str, workflow: Callable[..., Any], every_seconds: int, cron: str | None = None
    ) -> None:
        self.schedules.append(Schedule(name, workflow, every_seconds, cron))

    def add_service(self, make: Callable[[Runtime], Service]) -> None:
        self.services.append(make)

    def gate(self, name: str, limit: int) -> asyncio.Semaphore:
        """A limit on how many of one kind of step run at once in this process, waited for
        on the running event loop (DBOS's: it holds no pool thread). One per loop: a
        semaphore binds to the loop it first waits on, and a relaunch may bring a new one."""
        gates = self._gates.setdefault(asyncio.get_running_loop(), {})
        return gates.setdefault(name, asyncio.Semaphore(limit))

    # --- lifecycle ----------------------------------------------------------------------------
    def launch(self) -> Runtime:
        """Launch DBOS in this process and start the runtime's loops (once per process)."""
        _bind(self)
        self.stopping = False
        prepare_system_database(self.settings)
        sqlite_poll.install()  # before DBOS starts its listener thread
        DBOS(config=dbos_config(self.settings, self.executor_id,
                                run_migrations=self.migrate_system_database))  # fmt: skip
        DBOS.launch()
        polling = self.settings.workflow_queue_polling_seconds
        DBOS.register_queue(QUEUE, polling_interval_sec=polling, on_conflict="always_update")
        self._apply_schedules()
        self._heartbeat = Heartbeat(self.settings, self.sessions, self.executor_id)
        self._heartbeat.beat_and_recover()
        self._beating = Periodic("executor-heartbeat", self.settings.executor_heartbeat_seconds,
                                 self._heartbeat.beat_and_recover)  # fmt: skip
        self._beating.start()
        for make in self.services:
            service = make(self)
            service.start()
            self._running.append(service)
        log.info("durable runtime launched", executor_id=self.executor_id)
        return self

    def _apply_schedules(self) -> None:
        if not self.schedules:
            return
        DBOS.apply_schedules([
            {"schedule_name": s.name, "workflow_fn": s.workflow, "schedule": s.crontab()}
            for s in self.schedules
        ])  # fmt: skip

    def shutdown(self) -> None:
        """Stop the loops and DBOS; waiting workflows stay recorded, and live executors take
        them over at once (this executor resigns), or it recovers them at its next launch."""
        self.stopping = True
        while self._running:
            self._running.pop().stop()
        if self._beating is not None:
            self._beating.stop()
            self._beating = None
        DBOS.destroy(destroy_registry=False)
        if self._heartbeat is not None:
            self._heartbeat.resign()
            self._heartbeat = None
        if isinstance(self.client, QueueClient | BackgroundStarts):
            self.client.close()
        _unbind(self)

    def forget_clouds(self) -> None:
        """Drop the cached adapters (after the embedded cloud forgot its assumed roles)."""
        if isinstance(self.clouds, RegionClouds):
            self.clouds.clear()


# --- the one process-wide binding -------------------------------------------------------------
_bound: Runtime | None = None


def _bind(rt: Runtime) -> None:
    global _bound
    if _bound is not None and _bound is not rt:
        raise RuntimeError("a durable runtime is already launched in this process")
    _bound = rt


def _unbind(rt: Runtime) -> None:
    global _bound
    if _bound is rt:
        _bound = None


def bound_runtime() -> Runtime:
    """The runtime launched in this process: for workflow functions, which DBOS calls."""
    if _bound is None:
        raise RuntimeError("no durable runtime is launched in this process (Runtime.launch)")
    return _bound


F = TypeVar("F", bound=Callable[..., Any])


def workflow(name: str) -> Callable[[F], F]:
    """``DBOS.workflow`` under a stable registered name, with its type kept (the dbos package
    is not type-checked here). The name is what recorded and queued workflows refer to:
    never rename one that may be waiting in a database."""
    return cast(Callable[[F], F], DBOS.workflow(name=name))
