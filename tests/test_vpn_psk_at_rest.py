"""VPN pre-shared keys at rest: sealed in the database, shown to whom may see them, and
migration 0017 seals the rows 0016 stored in clear (and its downgrade unseals them)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

import linkplane.db
from tests.conftest import POSTGRES_URL
from tests.pgdb import own_database
from tests.test_breakouts_support import Stack
from tests.test_breakouts_support import stack as stack  # the process-wide fixture
from tests.test_breakouts_vpn import ACTIVE, create_vpn
from tests.test_durable_runtime import _lines
from tests.test_durable_runtime import json_logs as json_logs  # the log-capturing fixture

MIGRATIONS = str(Path(linkplane.db.__file__).parent / "migrations")


def test_the_database_does_not_hold_the_psk_and_the_configuration_shows_it(stack: Stack) -> None:
    from tests.test_breakouts_support import new_cidrs

    psk = "at.rest_secret_42"
    bid = create_vpn(stack, 3, new_cidrs(1), psk=psk)["id"]
    stack.status(bid, ACTIVE)
    with stack.ctx.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM breakout WHERE id = :id"), {"id": bid})
        stored = " ".join(str(v) for v in row.one())
    assert psk not in stored
    text = stack.client.get(f"/api/v1/cnc/breakout/{bid}/vpn_configuration",
                            params={"vendor": "generic"}).text  # fmt: skip
    assert f"Pre-shared key: {psk}" in text
    # Nor do the durable engine's checkpoints (the plan, every step's result).
    assert psk not in _system_database_text(stack)


def test_the_psk_is_never_logged(stack: Stack, json_logs: io.StringIO) -> None:
    """Not by a provisioning whose CreateVpnConnection (which carries it) is retried, nor
    by a log line that names it (masked like the other secrets)."""
    from linkplane import logs
    from linkplane.localcloud import throttle
    from tests.test_breakouts_support import new_cidrs

    psk = "never.logged_psk_7"
    throttle.reset()
    throttle.inject_fault("CreateVpnConnection", "InternalError", 500, 1,
                          account_id=stack.provider.account_id)  # fmt: skip
    try:
        bid = create_vpn(stack, 2, new_cidrs(1), psk=psk)["id"]
        stack.status(bid, ACTIVE)
    finally:
        throttle.reset()
    retried = [x for x in _lines(json_logs) if x.get("event") == "aws_retry"
               and x.get("breakout_id") == bid]  # fmt: skip
    assert retried, "the retry did not happen: the check would prove nothing"
    logs.get_logger("test").info("vpn", psk=psk, PreSharedKey=psk, tunnel_psk=psk)
    assert _lines(json_logs)[-1]["psk"] == "***"
    assert psk not in json_logs.getvalue()


def _system_database_text(stack: Stack) -> str:
    from linkplane.durable.config import system_database_url

    engine = sa.create_engine(system_database_url(stack.settings))
    try:
        inspector, out = sa.inspect(engine), []
        schemas = [s for s in inspector.get_schema_names() if s in ("dbos", "main", "public")]
        with engine.connect() as conn:
            for schema in schemas:
                for name in inspector.get_table_names(schema=schema):
                    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
                    out += [str(r) for r in conn.execute(sa.select(table))]
        assert out, "no checkpoint found: the check would pass for nothing"
        return "\n".join(out)
    finally:
        engine.dispose()


def _alembic(conn: sa.Connection, key: str | None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["connection"] = conn
    cfg.attributes["signing_key"] = (lambda: key) if key else None
    return cfg


def _dummy(column: sa.Column[Any]) -> Any:
    """A value of the column's type (the test needs only the PSK)."""
    kind = column.type.python_type
    return {int: 1, bool: False, float: 0.0, datetime: datetime(2026, 1, 1)}.get(kind, "x")


def insert_bare_breakout(conn: sa.Connection, **values: Any) -> None:
    """A ``breakout`` row at whatever revision the database is: ``values``, and a dummy for
    every other required column. A breakout row alone is enough for a migration's test: no
    organisation, user or region rows, so foreign keys are off for this transaction."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    else:
        conn.exec_driver_sql("SET session_replication_role = replica")
    table = sa.Table("breakout", sa.MetaData(), autoload_with=conn)
    row = {c.name: _dummy(c) for c in table.columns
           if not c.nullable and c.server_default is None and not c.primary_key}  # fmt: skip
    conn.execute(table.insert().values(**(row | values)))


def test_migration_seals_clear_psks_and_downgrade_unseals_them(tmp_path: Path) -> None:
    _seal_and_unseal(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migration_seals_and_unseals_on_postgres() -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set LINKPLANE_TEST_POSTGRES_URL")
    with own_database(POSTGRES_URL) as url:
        _seal_and_unseal(url)


def _seal_and_unseal(url: str) -> None:
    from linkplane.attachments import vpn

    engine = sa.create_engine(url)
    key = "k" * 48
    with engine.begin() as conn:
        command.upgrade(_alembic(conn, None), "0016_vpn_breakouts")
    with engine.begin() as conn:
        insert_bare_breakout(conn, id=7, vpn_psk="clear.psk_0016", vpc_cidrs="[]")
    with engine.begin() as conn:
        command.upgrade(_alembic(conn, key), "0017_vpn_psk_at_rest")
        sealed = conn.execute(sa.text("SELECT vpn_psk_sealed FROM breakout WHERE id = 7")).scalar()
    assert sealed and "clear.psk_0016" not in sealed
    assert vpn.unseal_psk(sealed, signing_key=key) == "clear.psk_0016"
    with engine.begin() as conn:
        command.downgrade(_alembic(conn, key), "0016_vpn_breakouts")
        clear = conn.execute(sa.text("SELECT vpn_psk FROM breakout WHERE id = 7")).scalar()
    assert clear == "clear.psk_0016"
    with engine.begin() as conn:  # and up to the head again, the rows sealed once more
        command.upgrade(_alembic(conn, key), "head")
        again = conn.execute(sa.text("SELECT vpn_psk_sealed FROM breakout WHERE id = 7")).scalar()
    assert vpn.unseal_psk(again, signing_key=key) == "clear.psk_0016"
    engine.dispose()
