"""Periodic reconciliation for ``linkplane up --reconcile-interval SECONDS``.

One pass: regenerate the core policy (applied only when its digest changed; fleet changes
made in ``up`` are applied at once by :mod:`.policy_trigger`, this catches those of other
processes), then audit every region and repair what drifted (events recorded).

A plain daemon thread, not a DBOS scheduled workflow: a pass is idempotent and may be
lost on a crash without harm (the next pass redoes it), so durability buys nothing, and a
thread keeps it off the workflow executor. Every worker runs one; a PostgreSQL advisory
lock (:func:`linkplane.db.exclusive`) lets one pass run at a time across them. Stopping sets
an event and joins the thread; a failing pass is logged and the next one runs on time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from linkplane.db import exclusive
from linkplane.errors import LinkplaneError
from linkplane.isolation import service
from linkplane.isolation.service import CloudFor, Factory
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)


@dataclass(frozen=True)
class PassResult:
    policy_changed: bool
    findings: int
    repaired: int
    failed: int


def reconcile_once(*, settings: Settings, factory: Factory, cloud_for: CloudFor) -> PassResult:
    policy = service.apply_policy(settings=settings, factory=factory)
    found = service.audit(settings=settings, factory=factory, cloud_for=cloud_for)
    fixed = service.repair(factory=factory, cloud_for=cloud_for, findings=found.findings)
    return PassResult(policy.changed, len(found.findings), len(fixed.repaired), len(fixed.failed))


class Reconciler:
    """Runs :func:`reconcile_once` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, *, settings: Settings, factory: Factory, cloud_for: CloudFor,
                 interval: float) -> None:  # fmt: skip
        self._settings, self._factory, self._cloud_for = settings, factory, cloud_for
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)
        self.passes = 0
        self.skipped = 0  # passes left to another process's reconciler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def run_once(self) -> PassResult | None:
        """One pass, or None when another process's reconciler is in its pass: workers
        all run a reconciler, and concurrent passes would repair the same drift twice."""
        with exclusive(self._factory, "linkplane.reconciler") as mine:
            if not mine:
                return None
            return reconcile_once(
                settings=self._settings, factory=self._factory, cloud_for=self._cloud_for
            )

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                result = self.run_once()
            except (LinkplaneError, OSError) as exc:
                log.error("reconcile_failed", error=str(exc))
                continue
            except Exception as exc:  # a bug in one pass must not end reconciliation
                log.exception("reconcile_crashed", error=str(exc))
                continue
            if result is None:
                self.skipped += 1
                continue
            self.passes += 1
            if result.findings or result.policy_changed:
                log.info("reconciled", **result.__dict__)
