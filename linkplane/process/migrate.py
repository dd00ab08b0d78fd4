"""``linkplane migrate``: create or upgrade the application schema and DBOS's tables.

Idempotent, and safe while older processes still serve: every migration only adds (tables,
nullable columns, indexes), so the code before it keeps working on the schema after it
(docs/deploy.md, "Upgrades"). ``serve`` and ``worker`` never change the schema; they refuse
to start on one behind their code, naming this command.
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from linkplane.db import make_engine, migrate
from linkplane.durable.config import QUEUE, migrate_system_database
from linkplane.errors import Conflict
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)


def _scripts() -> ScriptDirectory:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    return ScriptDirectory.from_config(cfg)


def _head() -> str:
    head = _scripts().get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def _known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def check_schema(engine: Engine) -> None:
    """Refuse a database whose schema is behind this code (or empty), naming the fix.

    A revision this code does not know is newer: a later version migrated it while this one
    still runs, which additive migrations allow.
    """
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = _head()
    if current == head or (current is not None and not _known(current)):
        return
    where = engine.url.render_as_string(hide_password=True)
    state = "has no linkplane schema" if current is None else f"is at schema {current}"
    raise Conflict(
        f"the database {where} {state}, this version needs {head}: "
        "run `linkplane migrate` first (with the same LINKPLANE_DATABASE_URL)"
    )


def run_migrations(settings: Settings) -> dict[str, str]:
    """Both databases to this code's schema, and the workflow queue declared."""
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine, signing_key=settings.signing_key)
    finally:
        engine.dispose()
    system_url = migrate_system_database(settings)
    _declare_queue(settings, system_url)
    log.info("migrated", schema=_head())
    return {"schema": _head(), "system_database": _hide(system_url)}


def _declare_queue(settings: Settings, system_url: str) -> None:
    """So that ``serve`` may enqueue before any worker ran (workers declare it too)."""
    from dbos import DBOSClient

    from linkplane.durable.config import APP_NAME

    client = DBOSClient(system_database_url=system_url, application_name=APP_NAME)
    try:
        client.register_queue(QUEUE, polling_interval_sec=settings.workflow_queue_polling_seconds,
                              on_conflict="always_update")  # fmt: skip
    finally:
        client.destroy()


def _hide(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
