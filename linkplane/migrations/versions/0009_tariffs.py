"""Tariff catalogue, organisation tariffs and inclusive volumes, tariff profile selections.

Revision ID: 0009_tariffs
Revises: 0008_sqlite_autoincrement

Owned by the tariffs feature (emnify parity, issue 12). Seeds a default catalogue (the
provider edits it with ``linkplane tariff``); existing tariff profiles get the default
tariff with all its rate zones selected, so their endpoints keep their coverage.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0009_tariffs"
down_revision = "0008_sqlite_autoincrement"
branch_labels = None
depends_on = None

AUTO = {"sqlite_autoincrement": True}

#: The default catalogue: (tariff, currency id, [(rate zone, country ids, [(MB, rate)])]).
#: Country ids are those of linkplane's operator list (74 DE, 205 GB, 67 FR, 211 US).
CATALOGUE = [
    ("linkplane Standard", 1, [
        ("Europe", [74, 205, 67], [(1_000, 5.0), (10_000, 30.0)]),
        ("North America", [211], [(1_000, 8.0)]),
    ]),
    ("linkplane Global", 1, [
        ("World", [74, 205, 67, 211], [(5_000, 20.0)]),
    ]),
]  # fmt: skip


def _catalogue_tables() -> None:
    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status_id", sa.Integer, nullable=False),
        sa.Column("currency_id", sa.Integer, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        **AUTO,
    )
    op.create_table(
        "ratezone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tariff_id", sa.Integer, sa.ForeignKey("tariff.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status_id", sa.Integer, nullable=False),
        **AUTO,
    )
    op.create_table(
        "ratezone_country",
        sa.Column("ratezone_id", sa.Integer, sa.ForeignKey("ratezone.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("country_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "inclusive_volume",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ratezone_id", sa.Integer, sa.ForeignKey("ratezone.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("volume", sa.Float, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        **AUTO,
    )


def _choice_tables() -> None:
    op.create_table(
        "organisation_tariff",
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("tariff_id", sa.Integer, sa.ForeignKey("tariff.id"), nullable=False),
    )
    op.create_table(
        "org_inclusive_volume",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("inclusive_volume_id", sa.Integer, sa.ForeignKey("inclusive_volume.id"),
                  nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("pooled", sa.Boolean, nullable=False),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Index("ix_org_inclusive_volume_org_id_start", "org_id", "start_date"),
        **AUTO,
    )
    op.create_table(
        "tariff_profile_ratezone",
        sa.Column("tariff_profile_id", sa.Integer,
                  sa.ForeignKey("tariff_profile.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("ratezone_id", sa.Integer, sa.ForeignKey("ratezone.id", ondelete="CASCADE"),
                  primary_key=True),
    )  # fmt: skip
    _add_reference("tariff_id", "tariff", "fk_tariff_profile_tariff_id_tariff")
    _add_reference("inclusive_volume_id", "org_inclusive_volume",
                   "fk_tariff_profile_inclusive_volume_id_org_inclusive_volume")


def _add_reference(column: str, target: str, name: str) -> None:
    """A nullable reference column on tariff_profile. On SQLite a plain ADD COLUMN (which
    accepts REFERENCES): rebuilding the table would run the foreign key actions of every
    endpoint referencing it, and Alembic can add no constraint there otherwise. (No ON
    DELETE action: SQLite's reflection would not see one on a column-level reference.)"""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE tariff_profile ADD COLUMN {column} INTEGER "
                   f"CONSTRAINT {name} REFERENCES {target} (id)")  # fmt: skip
        return
    op.add_column("tariff_profile", sa.Column(column, sa.Integer, nullable=True))
    op.create_foreign_key(name, "tariff_profile", target, [column], ["id"])


def _seed() -> None:
    """The default catalogue, ids from the database (explicit ids would leave PostgreSQL's
    sequences behind them)."""
    bind = op.get_bind()
    tariffs = sa.table("tariff", *(sa.column(c) for c in (
        "id", "name", "description", "status_id", "currency_id", "created")))  # fmt: skip
    zones = sa.table("ratezone", *(sa.column(c) for c in ("id", "tariff_id", "name", "status_id")))
    countries = sa.table("ratezone_country", sa.column("ratezone_id"), sa.column("country_id"))
    volumes = sa.table("inclusive_volume", *(sa.column(c) for c in (
        "id", "ratezone_id", "volume", "rate")))  # fmt: skip
    default_tariff = None
    for name, currency, zone_list in CATALOGUE:
        tariff_id = bind.execute(tariffs.insert().values(
            name=name, description="linkplane's default catalogue", status_id=1,
            currency_id=currency, created=datetime.now(UTC)).returning(tariffs.c.id)).scalar_one()
        default_tariff = default_tariff or tariff_id
        for zone_name, country_ids, offers in zone_list:
            zone_id = bind.execute(zones.insert().values(
                tariff_id=tariff_id, name=zone_name, status_id=1).returning(zones.c.id)
            ).scalar_one()  # fmt: skip
            bind.execute(countries.insert(), [
                {"ratezone_id": zone_id, "country_id": c} for c in country_ids])  # fmt: skip
            bind.execute(volumes.insert(), [
                {"ratezone_id": zone_id, "volume": float(mb), "rate": rate} for mb, rate in offers
            ])  # fmt: skip
    # Existing tariff profiles: the default tariff with all its rate zones selected.
    bind.execute(sa.text("UPDATE tariff_profile SET tariff_id = :t"), {"t": default_tariff})
    bind.execute(sa.text(
        "INSERT INTO tariff_profile_ratezone (tariff_profile_id, ratezone_id) "
        "SELECT tp.id, rz.id FROM tariff_profile tp, ratezone rz WHERE rz.tariff_id = :t"),
        {"t": default_tariff})  # fmt: skip


def upgrade() -> None:
    _catalogue_tables()
    _choice_tables()
    _seed()


def downgrade() -> None:
    with op.batch_alter_table("tariff_profile") as batch:
        batch.drop_column("inclusive_volume_id")
        batch.drop_column("tariff_id")
    for table in ("tariff_profile_ratezone", "org_inclusive_volume", "organisation_tariff",
                  "inclusive_volume", "ratezone_country", "ratezone", "tariff"):
        op.drop_table(table)
