"""Composition roots: one per process kind, and the only place that wires features together.

- :mod:`.up`: ``linkplane up``, the laptop default (embedded cloud, SQLite, API, workers).
- :mod:`.serve`: ``linkplane serve``, the API and portal only (starts go to the workers).
- :mod:`.worker`: ``linkplane worker``, the workflows, sweep, watch and reconciler.
- :mod:`.migrate`: ``linkplane migrate``, the application schema and DBOS's tables.
- :mod:`.app`: the HTTP application (the features' routers and the portal).
- :mod:`.hooks`: the hooks features register with each other and with the runtime.

Each root builds its settings, database, cloud factory and (where workflows run) the
durable runtime, registers the hooks, and passes them on; nothing reaches a global.
"""
