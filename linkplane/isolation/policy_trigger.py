r"""Endpoint, SIM and service-profile changes reach the core gateway promptly.

Two parts, both in this module so the fleet features stay unaware of isolation:

- :func:`watch` hooks a sessionmaker's sessions. ``after_flush`` (and ``do_orm_execute`` for
  bulk ``insert/update/delete`` statements) marks the session when a row the policy reads
  was inserted, deleted, or had a policy column changed (:data:`WATCHED`); ``after_commit``
  of a marked session calls ``on_change``; ``after_rollback`` drops the mark. The hook costs
  a look at the flushed objects and an ``Event.set``: requests never wait for an apply.
- :class:`PolicyApplier` is the one background thread per process that turns those signals
  into :func:`~linkplane.isolation.service.apply_policy` calls. It waits ``debounce``
  seconds after a signal so a burst of commits costs one apply (a full fleet read and render,
  about 1 s at 100,000 devices; nothing is written when the digest is unchanged), and a
  signal arriving during an apply causes one more. A failed apply is logged and retried on
  the next signal; the old ruleset stays in force meanwhile.

Across processes (``serve`` commits, ``worker`` applies) PostgreSQL carries the signal:
``serve`` hooks its sessions with :func:`notify_workers`, a ``NOTIFY`` on :data:`CHANNEL`
after each such commit, and every worker's applier ``LISTEN``\ s on it (``listen=True``).

Nothing durable is needed: an apply is idempotent (digest comparison) and recomputes the
whole policy from the database, so a signal lost in a crash is healed by the applier's
apply at start, by the next change, or by the reconciler.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.attributes import instance_state

from linkplane.devices.models import Endpoint
from linkplane.errors import LinkplaneError
from linkplane.isolation import service
from linkplane.isolation.service import Factory
from linkplane.logs import get_logger
from linkplane.profiles.models import ServiceProfile
from linkplane.settings import Settings
from linkplane.sims.models import Sim

log = get_logger(__name__)

#: The models the policy reads and, per model, the attributes it reads (see
#: ``state.load_endpoints``). Inserting or deleting a row of these always counts.
WATCHED: dict[type[Any], frozenset[str]] = {
    Endpoint: frozenset({"org_id", "ip_address", "status", "sim_id", "service_profile_id"}),
    Sim: frozenset({"status"}),
    ServiceProfile: frozenset({"allow_cloud_connect"}),
}
_MARK = "linkplane.policy_changed"
#: The PostgreSQL notification channel from API processes to the workers' appliers.
CHANNEL = "linkplane_core_policy"
_watched: weakref.WeakSet[Factory] = weakref.WeakSet()


def _changes_policy(obj: object, *, updated: bool) -> bool:
    columns = WATCHED.get(type(obj))
    if columns is None:
        return False
    if not updated:
        return True
    attrs = instance_state(obj).attrs
    return any(attrs[name].history.has_changes() for name in columns)


def watch(factory: Factory, on_change: Callable[[], None]) -> Callable[[], None]:
    """Call ``on_change`` after every commit, by a session of ``factory``, that touched what
    the core policy reads. Returns the function that removes the hooks again. One watcher per
    sessionmaker (a second one would mean a second applier racing the first)."""
    if factory in _watched:
        raise RuntimeError("the core policy trigger is already installed on this sessionmaker")

    def after_flush(session: Session, _context: object) -> None:
        if any(_changes_policy(o, updated=False) for o in (*session.new, *session.deleted)) or any(
            _changes_policy(o, updated=True) for o in session.dirty
        ):
            session.info[_MARK] = True

    def do_orm_execute(state: ORMExecuteState) -> None:
        bulk = state.is_insert or state.is_update or state.is_delete
        mapper = state.bind_mapper
        if bulk and mapper is not None and mapper.class_ in WATCHED:
            state.session.info[_MARK] = True

    # Both events fire for savepoints too (``begin_nested``), while the outer transaction is
    # still open: signalling then let the applier read before the commit and lose the change
    # (the endpoint insert runs in a savepoint), and dropping the mark on a savepoint rollback
    # forgot what the outer transaction had flushed. Only the outermost transaction counts.
    def after_commit(session: Session) -> None:
        if not session.in_nested_transaction() and session.info.pop(_MARK, False):
            on_change()

    def after_rollback(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_MARK, None)

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("after_flush", after_flush), ("do_orm_execute", do_orm_execute),
        ("after_commit", after_commit), ("after_rollback", after_rollback),
    ]  # fmt: skip
    for name, fn in hooks:
        event.listen(factory, name, fn)
    _watched.add(factory)

    def unwatch() -> None:
        for name, fn in hooks:
            event.remove(factory, name, fn)
        _watched.discard(factory)

    return unwatch


def notify_workers(factory: Factory) -> Callable[[], None]:
    """An ``on_change`` for :func:`watch` in processes that do not apply the policy
    themselves (``serve``): a ``NOTIFY`` that wakes every worker's applier. A lost one (the
    database down for a moment) is healed by the next change or the reconciler."""

    def on_change() -> None:
        try:
            with factory() as session:
                session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
                session.commit()
        except SQLAlchemyError as exc:
            log.error("core_policy_notify_failed", error=str(exc))

    return on_change


class PolicyApplier:
    """Applies the core policy after watched changes; :meth:`start` once, :meth:`stop` at
    shutdown. ``applies`` counts finished passes (changed or not), ``failures`` failed ones."""

    def __init__(self, *, settings: Settings, factory: Factory, debounce: float = 0.3,
                 listen: bool = False, reads: Factory | None = None) -> None:  # fmt: skip
        """``listen``: also apply on other processes' notifications (PostgreSQL only).
        ``factory``: the sessions whose commits are watched; ``reads``: the sessions an
        apply reads with, watched too (default the same; ``up`` passes its background pool
        so that an apply never takes a connection the API's admitted requests count on)."""
        self._settings, self._factory, self._debounce = settings, factory, debounce
        self._reads = reads or factory
        self._listener = (
            threading.Thread(target=self._listen, name="policy-listener", daemon=True)
            if listen and settings.on_postgres
            else None
        )
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="policy-applier", daemon=True)
        self._unwatch: list[Callable[[], None]] = []
        self.applies = 0
        self.failures = 0

    def start(self) -> None:
        """Hook the sessionmaker, then apply once (heals a signal lost before a restart)."""
        self._unwatch = [watch(f, self.signal) for f in dict.fromkeys((self._factory, self._reads))]
        self._wake.set()
        self._thread.start()
        if self._listener is not None:
            self._listener.start()

    def signal(self) -> None:
        """Ask for an apply; cheap and thread-safe (called from ``after_commit``)."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        """Remove the hooks and end the thread (after the apply in progress, if any)."""
        while self._unwatch:
            self._unwatch.pop()()
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        if self._listener is not None and self._listener.is_alive():
            self._listener.join(timeout=5.0)  # it wakes every second to look at _stopping

    def _listen(self) -> None:
        """Signal on every notification of :data:`CHANNEL`; reconnect after a lost
        connection (and apply then, as a notification may have been missed meanwhile)."""
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self._settings.database_url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.signal()
                    while not self._stopping.is_set():
                        for _note in conn.notifies(timeout=1.0):
                            self.signal()
            except psycopg.Error as exc:
                log.error("core_policy_listen_failed", error=str(exc))
                self._stopping.wait(5.0)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            # Let a burst of commits settle; stop() cuts the wait short.
            if self._stopping.wait(self._debounce):
                return
            self._wake.clear()  # before reading the DB: a later commit signals again
            self._apply()

    def _apply(self) -> None:
        try:
            result = service.apply_policy(settings=self._settings, factory=self._reads)
        except (LinkplaneError, OSError) as exc:
            self.failures += 1
            log.error("core_policy_trigger_failed", error=str(exc))
            return
        except Exception as exc:  # a bug or a DB error must not end the applier
            self.failures += 1
            log.exception("core_policy_trigger_crashed", error=str(exc))
            return
        self.applies += 1
        if result.changed:
            log.info("core_policy_triggered", digest=result.digest[:12], devices=result.devices)
