"""Executor liveness and the takeover of a dead executor's workflows.

DBOS recovers at launch only the workflows of its own ``executor_id``; a process that never
comes back (SIGKILL, a lost host) would strand its workflows. Every executor therefore
writes a heartbeat row every ``executor_heartbeat_seconds``, and on each beat recovers the
pending workflows of any executor whose row is older than ``executor_dead_after_seconds``
(DBOS re-enqueues them on its internal queue; the queue hands each to exactly one live
executor, which replays its recorded steps and carries on).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dbos import DBOS
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.db import transaction, utcnow
from linkplane.durable.models import ExecutorHeartbeat
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)


class Heartbeat:
    """This executor's liveness row, and the takeover of executors that stopped beating; run
    every ``executor_heartbeat_seconds`` by a :class:`~linkplane.durable.loop.Periodic` the
    runtime owns (it only writes a timestamp and triggers DBOS recovery)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], executor_id: str
                 ) -> None:  # fmt: skip
        self._settings, self._sessions, self.executor_id = settings, sessions, executor_id

    def beat(self) -> None:
        with transaction(self._sessions) as session:
            row = session.get(ExecutorHeartbeat, self.executor_id)
            if row is None:
                row = ExecutorHeartbeat(executor_id=self.executor_id)
                session.add(row)
            row.application_version = self._settings.dbos_application_version
            row.last_seen = utcnow()

    def beat_and_recover(self) -> list[str]:
        self.beat()
        return self.recover_dead()

    def recover_dead(self) -> list[str]:
        """Recover the pending workflows of every executor whose heartbeat went stale.

        The stale row is deleted first and only the executor whose delete hit the row
        recovers, so two live executors do not both recover (DBOS's re-enqueue is idempotent
        anyway). Only executors of this application version are taken over: DBOS recovers
        only workflows of its own version, and a claimed row is gone for every other taker.
        """
        cutoff = utcnow() - timedelta(seconds=self._settings.executor_dead_after_seconds)
        version = self._settings.dbos_application_version
        with self._sessions() as session:
            stale = session.scalars(select(ExecutorHeartbeat.executor_id).where(
                ExecutorHeartbeat.last_seen < cutoff,
                ExecutorHeartbeat.application_version == version,
            )).all()  # fmt: skip
        recovered: list[str] = []
        for executor_id in stale:
            if executor_id == self.executor_id or not self._claim(executor_id, cutoff):
                continue
            handles = DBOS._recover_pending_workflows([executor_id])
            log.warning("recovered workflows of a dead executor",
                        executor_id=executor_id, workflows=len(handles))  # fmt: skip
            recovered.append(executor_id)
        return recovered

    def _claim(self, executor_id: str, cutoff: object) -> bool:
        with transaction(self._sessions) as session:
            result = session.execute(
                delete(ExecutorHeartbeat).where(
                    ExecutorHeartbeat.executor_id == executor_id,
                    ExecutorHeartbeat.last_seen < cutoff,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    def resign(self) -> None:
        """After a clean stop: mark this executor dead at once, so live executors take over
        its waiting workflows at their next beat instead of after the dead-after time (a
        rolling restart). Its row stays: a taker must claim it (see :meth:`recover_dead`)."""
        with transaction(self._sessions) as session:
            row = session.get(ExecutorHeartbeat, self.executor_id)
            if row is not None:
                row.last_seen = EPOCH


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
