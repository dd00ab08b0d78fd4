"""What a scrape reads from the databases, and the registry of one served app.

See :mod:`linkplane.ops.metrics` for every metric name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from linkplane.logs import get_logger
from linkplane.ops.metrics import PROCESS_METRICS

log = get_logger(__name__)


class BreakoutCollector(Collector):
    """Breakouts by status and type, counted in the application database at each scrape."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        from linkplane.attachments.models import Breakout, BreakoutType, Status

        family = GaugeMetricFamily("linkplane_breakouts", "Breakouts by status and type",
                                   labels=["status", "type"])  # fmt: skip
        query = select(Breakout.status_id, Breakout.type_id, func.count()).group_by(
            Breakout.status_id, Breakout.type_id
        )
        try:
            with self._sessions() as session:
                rows = session.execute(query).all()
        except SQLAlchemyError as exc:
            log.warning("metrics_unavailable", collector="breakouts", error=type(exc).__name__)
            return
        for status, kind, count in rows:
            family.add_metric([Status(status).name.lower(), BreakoutType(kind).name.lower()],
                              count)  # fmt: skip
        yield family


#: DBOS's own table of workflows (documented system table); ENQUEUED rows wait for a worker.
_QUEUED = """
SELECT queue_name, COUNT(*), MIN(created_at) FROM {table}
WHERE status = 'ENQUEUED' AND queue_name IS NOT NULL GROUP BY queue_name
"""


class QueueCollector(Collector):
    """Workflow starts waiting on DBOS queues, read from DBOS's system database."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        schema = "dbos." if engine.dialect.name == "postgresql" else ""
        self._sql = text(_QUEUED.format(table=f"{schema}workflow_status"))

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("linkplane_workflow_queue_depth",
                                  "Workflow starts waiting for a worker", labels=["queue"])
        age = GaugeMetricFamily("linkplane_workflow_queue_oldest_age_seconds",
                                "How long the oldest waiting start has waited", labels=["queue"])
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(self._sql).all()
        except SQLAlchemyError as exc:
            log.warning("metrics_unavailable", collector="queue", error=type(exc).__name__)
            return
        now_ms = self._clock() * 1000
        for queue, count, oldest in rows:
            depth.add_metric([queue], count)
            age.add_metric([queue], max(0.0, (now_ms - float(oldest)) / 1000))
        yield depth
        yield age


def build_registry(sessions: sessionmaker[Session], system_db: Engine) -> CollectorRegistry:
    """A registry for one served app: this process's metrics and its databases'."""
    registry = CollectorRegistry()
    for metric in PROCESS_METRICS:
        registry.register(metric)
    registry.register(ProcessCollector(registry=None))
    registry.register(BreakoutCollector(sessions))
    registry.register(QueueCollector(system_db))
    return registry
