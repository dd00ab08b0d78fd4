"""Starting and signalling workflows from any process, through DBOS's system database.

``serve`` runs no workflow code: a start is a row on the :data:`~.config.QUEUE` queue that
one worker claims (DBOS hands each to exactly one executor), a signal is a DBOS message the
waiting workflow receives wherever it runs. ``up`` and the workers use the same path, so a
start behaves the same in every process kind.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Protocol

from dbos import DBOSClient, EnqueueOptions

from linkplane.durable.config import APP_NAME, QUEUE, system_database_url
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)


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


class BackgroundStarts:
    """A :class:`WorkflowClient` whose starts return at once; one thread enqueues them.

    A start is DBOS's write into its system database, which waits behind the steps of every
    running workflow (SQLite has one writer; 0.3-0.4 s per create with 1,000 breakouts in
    flight). The caller has already committed its row, so the start need not be waited for:
    a start lost with the process (or refused by the database) leaves a row no workflow works
    on, which the sweep starts (``recovery``: "its workflow never started"); ids are
    deterministic, so a start made twice is one workflow.

    ``send`` and ``states`` first wait for the starts handed in before them: a message to a
    workflow that is not started yet would find no workflow.
    """

    def __init__(self, inner: WorkflowClient) -> None:
        self.inner = inner
        self._pending: deque[tuple[str, str, tuple[Any, ...]]] = deque()
        self._busy = 0  # starts taken off the queue and not yet done
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self, workflow: str, workflow_id: str, *args: Any) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the workflow client is closed")
            self._pending.append((workflow, workflow_id, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="workflow-starts",
                                                daemon=True)  # fmt: skip
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                workflow, workflow_id, args = self._pending.popleft()
                self._busy += 1
            try:
                self.inner.start(workflow, workflow_id, *args)
            except Exception as exc:  # the sweep starts it; the caller is long gone
                log.warning("workflow start failed; the sweep will start it",
                            workflow_id=workflow_id, error=str(exc))  # fmt: skip
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every start handed in so far was made (or failed); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + self._busy

    def send(self, workflow_id: str, message: str, topic: str) -> None:
        self.flush()
        self.inner.send(workflow_id, message, topic)

    def states(self, workflow_ids: list[str]) -> dict[str, str]:
        self.flush()
        return self.inner.states(workflow_ids)

    def close(self) -> None:
        """Make the starts handed in, then stop the thread and close the inner client."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()
