"""The breakout workflows, by subject.

- :mod:`.messages`: workflow names and ids, the messages a provisioning workflow receives
  (``recheck``, ``delete``), and starting/signalling through a
  :class:`~linkplane.durable.client.WorkflowClient`. Light: the API, the commands and the
  watcher import only this.
- :mod:`.plans`: attachment types as plans (TGW now), each provisioned and undone by its own
  steps; :mod:`.tgw` is the TGW plan.
- :mod:`.provisioning`, :mod:`.teardown`, :mod:`.sweep`: the DBOS workflow functions, which
  a worker's composition root imports (``linkplane.process.hooks.install_workflows``) before
  it launches the runtime; :mod:`.recovery` decides what a stranded breakout needs.
"""

from __future__ import annotations
