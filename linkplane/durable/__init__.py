"""The durable workflow runtime: DBOS, its executors, and what workflow steps are given.

- :mod:`.runtime`: :class:`~.runtime.Runtime`, the object a composition root builds and
  launches (DBOS, executor heartbeat and takeover, the workflow queue), and the one
  process-wide binding that DBOS-called workflow functions read it from.
- :mod:`.steps`: checkpointed steps (an AWS call, a database change, a hook).
- :mod:`.client`: starting and signalling workflows from any process (DBOS queue and
  messages through the system database), so the API needs no workflow code.
- :mod:`.clouds`: the per-region cloud factory the steps use.

Nothing here imports a feature: features import this package, never the reverse.
"""
