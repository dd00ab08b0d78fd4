"""Alembic environment: runs on the connection handed over by :func:`linkplane.db.migrate`."""

from __future__ import annotations

from alembic import context

from linkplane import models_registry  # noqa: F401  (imports every feature's models)
from linkplane.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through linkplane.db.migrate
    raise RuntimeError("run migrations through linkplane.db.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
