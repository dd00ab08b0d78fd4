"""The migrations and the ORM models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from linkplane import models_registry  # noqa: F401
from linkplane.context import AppContext
from linkplane.db import Base


def test_models_match_migrations(ctx: AppContext) -> None:
    with ctx.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(mc, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
