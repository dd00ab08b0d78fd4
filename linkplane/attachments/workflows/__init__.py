"""The breakout workflows, by subject.

- :mod:`.messages`: workflow names and ids, the messages a provisioning workflow receives
  (``recheck``, ``delete``), and starting/signalling through a
  :class:`~linkplane.durable.client.WorkflowClient`. Light: the API, the commands and the
  watcher import only this.
- :mod:`.plans`: attachment types as plans (TGW now), each provisioned and undone by its own
  steps; :mod:`.tgw` is the TGW plan.
- :mod:`.provisioning`, :mod:`.teardown`, :mod:`.sweep`: the DBOS workflow functions, which
  a worker's composition root imports (:func:`install`) before it launches the runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linkplane.durable.runtime import Runtime


def install(rt: Runtime, *, sweep: bool = True) -> None:
    """Register the workflows, the sweep schedule (unless ``sweep`` is off: a caller that
    runs passes itself) and the watcher with a runtime that runs workflows (``worker``,
    ``up``); call before ``rt.launch()``."""
    from linkplane.attachments.watcher import Watcher
    from linkplane.attachments.workflows import provisioning, teardown
    from linkplane.attachments.workflows import sweep as sweeping

    del provisioning, teardown  # imported for their DBOS registrations
    if sweep:
        rt.schedule(sweeping.SWEEP_SCHEDULE, sweeping.sweep,
                    rt.settings.breakout_sweep_interval_seconds)  # fmt: skip
    if rt.settings.breakout_watch_interval_seconds > 0:
        rt.add_service(Watcher.for_runtime)
