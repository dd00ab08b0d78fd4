"""No table hands out an id twice (issue 12 defect 3): on SQLite every table with an integer
id has AUTOINCREMENT (migration 0008), on PostgreSQL sequences never go back.

The tables are taken from the models, so a table added later is covered without a change
here; its migration must create it with ``sqlite_autoincrement=True``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    text,
)

import linkplane.db
from linkplane import models_registry  # noqa: F401  (every feature's tables)
from linkplane.context import open_context
from linkplane.db import Base, make_engine
from linkplane.settings import Settings
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]


def _id_tables() -> list[Table]:
    tables = []
    for table in Base.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        # A generated id: one integer column that is not a reference to another table.
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and not pk[0].foreign_keys:
            tables.append(table)
    return tables


ID_TABLES = _id_tables()


def _value(column: Any) -> Any:
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, DateTime) or getattr(kind, "impl", None).__class__ is DateTime:
        return datetime.now(UTC)
    if isinstance(kind, Date):
        return date(2026, 1, 1)
    if isinstance(kind, Integer | BigInteger):
        return 1
    if isinstance(kind, Float):
        return 1.0
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 32
        return secrets.token_hex(16)[:length]
    raise AssertionError(f"no sample value for {column} ({kind!r}): extend _value")


def _insert(conn: Connection, table: Table) -> int:
    """A row of ``table`` with every required column filled (parents created as needed)."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key or column.nullable or column.default is not None:
            continue
        if column.server_default is not None:
            continue
        fk = next(iter(column.foreign_keys), None)
        values[column.name] = _insert(conn, fk.column.table) if fk else _value(column)
    pk = next(iter(table.primary_key.columns))
    result = conn.execute(insert(table).values(values).returning(pk))
    return int(result.scalar_one())


@pytest.mark.parametrize("table", ID_TABLES, ids=[t.name for t in ID_TABLES])
def test_a_deleted_newest_id_is_not_handed_out_again(
    any_db_settings: Settings, table: Table
) -> None:
    ctx = open_context(any_db_settings)
    try:
        # Rolled back at the end: the PostgreSQL database is shared by the session, and rows
        # of made-up values would break other tests. Counters advance inside the transaction
        # (SQLite's sqlite_sequence) or outside it (PostgreSQL sequences): both are seen here.
        with ctx.engine.connect() as conn, conn.begin() as outer:
            pk = next(iter(table.primary_key.columns))
            _insert(conn, table)
            newest = _insert(conn, table)
            conn.execute(delete(table).where(pk == newest))
            assert _insert(conn, table) > newest, f"{table.name} reused id {newest}"
            outer.rollback()
    finally:
        ctx.close()


def test_every_id_table_of_a_fresh_sqlite_database_has_autoincrement(tmp_path: Path) -> None:
    ctx = open_context(Settings(data_dir=tmp_path))
    try:
        with ctx.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            sql = {name: create for name, create in rows.tuples()}
        missing = [t.name for t in ID_TABLES if "AUTOINCREMENT" not in sql[t.name].upper()]
        assert not missing, f"tables that can reuse ids: {missing}"
    finally:
        ctx.close()


def test_deleting_the_newest_endpoint_does_not_give_its_id_and_history_away(
    fleet: Fleet,
) -> None:
    """The issue's reproduction, over the API."""
    first = fleet.new_endpoint(name="first").json()["id"]
    newest = fleet.new_endpoint(name="doomed").json()["id"]
    assert fleet.delete(f"/api/v1/endpoint/{newest}").status_code == 204
    again = fleet.new_endpoint(name="fresh").json()["id"]
    assert again > newest > first
    events = fleet.get(f"/api/v1/endpoint/{again}/event").json()
    assert [e["description"] for e in events] == [
        "endpoint 'fresh' created with IP 100.64.0.2"
    ]


# --- the upgrade of an existing database ---------------------------------------------------


def _upgrade(url: str, revision: str) -> None:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(linkplane.db.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_upgrading_keeps_every_row_and_skips_ids_deleted_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _upgrade(url, "0007_installation")
    engine = make_engine(url)
    now = datetime.now(UTC).isoformat()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (id, name, created_at, is_provider) "
                          "VALUES (1, 'acme', :now, 0)"), {"now": now})  # fmt: skip
        conn.execute(text("INSERT INTO service_profile (id, org_id, name, allowed_3g, allowed_4g,"
                          " allowed_nb_iot, allowed_nb_iot_geo, apply_sms_quota, apply_data_quota,"
                          " retail, sms_p2p_int, sms_p2p_ext, nipdp, allow_cloud_connect,"
                          " created_at) VALUES (1, 1, 'sp', 1,1,1,0,0,0,0,1,1,0,0, :now)"),
                     {"now": now})  # fmt: skip
        conn.execute(text("INSERT INTO tariff_profile (id, org_id, name, created_at) "
                          "VALUES (1, 1, 'tp', :now)"), {"now": now})  # fmt: skip
        for i in (1, 2, 3):
            conn.execute(text("INSERT INTO endpoint (id, org_id, name, status, imei_lock,"
                              " service_profile_id, tariff_profile_id, created, last_updated)"
                              " VALUES (:i, 1, :n, 0, 0, 1, 1, :now, :now)"),
                         {"i": i, "n": f"ep{i}", "now": now})  # fmt: skip
            conn.execute(text("INSERT INTO event (org_id, timestamp, event_type, severity,"
                              " source, description, actor, entity_type, entity_id)"
                              " VALUES (1, :now, 'Endpoint created', 0, 'api', 'x', 'system',"
                              " 'endpoint', :i)"), {"i": i, "now": now})  # fmt: skip
        conn.execute(text("DELETE FROM endpoint WHERE id = 3"))  # before the upgrade
    engine.dispose()

    _upgrade(url, "head")
    engine = make_engine(url)
    with engine.begin() as conn:
        names = conn.execute(text("SELECT name FROM endpoint ORDER BY id")).scalars().all()
        assert names == ["ep1", "ep2"]  # the rebuild of organisation cascaded nothing away
        assert conn.execute(text("SELECT count(*) FROM event")).scalar() == 3
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        new_id = conn.execute(text("INSERT INTO endpoint (org_id, name, status, imei_lock,"
                                   " service_profile_id, tariff_profile_id, created,"
                                   " last_updated) VALUES (1, 'ep4', 0, 0, 1, 1, :now, :now)"
                                   " RETURNING id"), {"now": now}).scalar()  # fmt: skip
        assert new_id == 4, "id 3 is in the audit trail: it must not be handed out again"
        orgs = conn.execute(select(text("count(*)")).select_from(text("organisation"))).scalar()
        assert orgs == 1
        # The rebuilt tables keep their indexes, constraints and types.
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
    _upgrade(url, "head")  # a second run has nothing to do
