"""fleet tables: IP address spaces, profiles, SIMs, endpoints.

Revision ID: 0003_fleet
Revises: 0002_tenancy

Owned by the fleet feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0003_fleet"
down_revision = "0002_tenancy"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(
        f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}"
    )


def _org(table: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "org_id", sa.Integer(), _fk(table, "org_id", "organisation", "CASCADE"), nullable=False
    )


def _spaces() -> None:
    op.create_table(
        "ip_address_space",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cidr", sa.String(43), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column(
            "org_id",
            sa.Integer(),
            _fk("ip_address_space", "org_id", "organisation", "SET NULL"),
            nullable=True,
        ),
        sa.Column("next_offset", sa.Integer(), nullable=False),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("cidr", name="uq_ip_address_space_cidr"),
    )
    op.create_index("ix_ip_address_space_org_id", "ip_address_space", ["org_id"])
    op.create_table(
        "ip_free_address",
        sa.Column(
            "space_id",
            sa.Integer(),
            _fk("ip_free_address", "space_id", "ip_address_space", "CASCADE"),
            primary_key=True,
        ),
        sa.Column("offset", sa.Integer(), primary_key=True),
    )


def _profiles() -> None:
    flags = {
        "allowed_3g", "allowed_4g", "allowed_nb_iot", "allowed_nb_iot_geo", "apply_sms_quota",
        "apply_data_quota", "retail", "sms_p2p_int", "sms_p2p_ext", "nipdp", "allow_cloud_connect",
    }  # fmt: skip
    op.create_table(
        "service_profile",
        sa.Column("id", sa.Integer(), primary_key=True),
        _org("service_profile"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        *[sa.Column(flag, sa.Boolean(), nullable=False) for flag in sorted(flags)],
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_service_profile_org_id_id", "service_profile", ["org_id", "id"])
    op.create_table(
        "tariff_profile",
        sa.Column("id", sa.Integer(), primary_key=True),
        _org("tariff_profile"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tariff_profile_org_id_id", "tariff_profile", ["org_id", "id"])


def _sims() -> None:
    op.create_table(
        "sim",
        sa.Column("id", sa.Integer(), primary_key=True),
        _org("sim"),
        sa.Column("iccid", sa.String(20), nullable=False),
        sa.Column("imsi", sa.String(15), nullable=False),
        sa.Column("msisdn", sa.String(15), nullable=False),
        sa.Column("bic", sa.String(64), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("production_date", UTCDateTime(), nullable=False),
        sa.Column("activation_date", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("iccid", name="uq_sim_iccid"),
        sa.UniqueConstraint("imsi", name="uq_sim_imsi"),
        sa.UniqueConstraint("msisdn", name="uq_sim_msisdn"),
    )
    op.create_index("ix_sim_org_id_id", "sim", ["org_id", "id"])
    op.create_index("ix_sim_org_id_bic", "sim", ["org_id", "bic"])


def _endpoints() -> None:
    op.create_table(
        "endpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        _org("endpoint"),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tags", sa.String(255), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("imei", sa.String(16), nullable=True),
        sa.Column("imei_lock", sa.Boolean(), nullable=False),
        sa.Column(
            "service_profile_id",
            sa.Integer(),
            _fk("endpoint", "service_profile_id", "service_profile"),
            nullable=False,
        ),
        sa.Column(
            "tariff_profile_id",
            sa.Integer(),
            _fk("endpoint", "tariff_profile_id", "tariff_profile"),
            nullable=False,
        ),
        sa.Column(
            "ip_address_space_id",
            sa.Integer(),
            _fk("endpoint", "ip_address_space_id", "ip_address_space"),
            nullable=True,
        ),
        sa.Column("ip_address", sa.String(45), nullable=True),
        sa.Column("sim_id", sa.Integer(), _fk("endpoint", "sim_id", "sim"), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
        sa.Column("last_updated", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ip_address_space_id", "ip_address", name="uq_endpoint_space_ip"),
        sa.UniqueConstraint("sim_id", name="uq_endpoint_sim_id"),
    )
    op.create_index("ix_endpoint_org_id_id", "endpoint", ["org_id", "id"])
    op.create_index("ix_endpoint_org_id_name", "endpoint", ["org_id", "name", "id"])
    op.create_index("ix_endpoint_org_id_status", "endpoint", ["org_id", "status", "id"])
    op.create_index("ix_endpoint_service_profile_id", "endpoint", ["service_profile_id"])
    op.create_index("ix_endpoint_tariff_profile_id", "endpoint", ["tariff_profile_id"])


def upgrade() -> None:
    _spaces()
    _profiles()
    _sims()
    _endpoints()


def downgrade() -> None:
    for table in (
        "endpoint", "sim", "tariff_profile", "service_profile", "ip_free_address",
        "ip_address_space",
    ):  # fmt: skip
        op.drop_table(table)
