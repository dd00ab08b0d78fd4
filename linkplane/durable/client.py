"""Starting and signalling workflows from any process, through DBOS's system database.

``serve`` runs no workflow code: a start is a row on the :data:`~.config.QUEUE` queue that
one worker claims (DBOS hands each to exactly one executor), a signal is a DBOS message the
waiting workflow receives wherever it runs. ``up`` and the workers use the same path, so a
start behaves the same in every process kind.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from dbos import DBOSClient, EnqueueOptions

from linkplane.durable.config import APP_NAME, QUEUE, system_database_url
from linkplane.settings import Settings


class WorkflowClient(Protocol):
    """What a transport needs of the workflow engine."""

    def start(self, workflow: str, workflow_id: str, *args: Any) -> None:
        """Start ``workflow`` (a registered name) under ``workflow_id``; a no-op when a
        workflow of that id exists already (ids are deterministic)."""

    def send(self, workflow_id: str, message: str, topic: str) -> None:
        """Deliver ``message`` to the workflow (kept until it reads it, even if not running)."""

    def states(self, workflow_ids: list[str]) -> dict[str, str]:
        """DBOS's status (``PENDING``, ``ERROR``, ...) of each workflow that exists."""


class QueueClient:
    """:class:`WorkflowClient` over :class:`dbos.DBOSClient` (connects on first use)."""

    def __init__(self, settings: Settings) -> None:
        self._url = system_database_url(settings)
        self._version = settings.dbos_application_version
        self._client: DBOSClient | None = None
        self._lock = threading.Lock()

    def _dbos(self) -> DBOSClient:
        with self._lock:
            if self._client is None:
                # Fail fast when the database is unreachable instead of blocking the request
                # (DBOS's default): a start that fails after the commit is the sweep's job.
                self._client = DBOSClient(system_database_url=self._url,
                                          application_name=APP_NAME, lazy=True,
                                          retry_connection_errors=False)  # fmt: skip
            return self._client

    def start(self, workflow: str, workflow_id: str, *args: Any) -> None:
        options: EnqueueOptions = {
            "workflow_name": workflow, "queue_name": QUEUE, "workflow_id": workflow_id,
            # Pinned like the workers' version: only they may claim it (docs/deploy.md).
            "app_version": self._version,
        }  # fmt: skip
        self._dbos().enqueue(options, *args)

    def send(self, workflow_id: str, message: str, topic: str) -> None:
        self._dbos().send(workflow_id, message, topic)

    def states(self, workflow_ids: list[str]) -> dict[str, str]:
        if not workflow_ids:
            return {}
        found = self._dbos().list_workflows(workflow_ids=workflow_ids, load_input=False,
                                            load_output=False)  # fmt: skip
        return {w.workflow_id: str(w.status) for w in found}

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.destroy()
                self._client = None
