"""SMS, API callbacks, quotas, traffic limits and blocklists.

Revision ID: 0011_sms_quotas
Revises: 0010_usage_hour

Owned by the sms, callbacks, quotas, trafficlimits and blocklists features. Existing service
profiles get the services new ones start with (SMS MT 1, SMS MO 2, Data 38), so nothing that
worked before is refused now that services are enforced.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0011_sms_quotas"
down_revision = "0010_usage_hour"
branch_labels = None
depends_on = None

DEFAULT_SERVICES = (1, 2, 38)


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def _ref(
    table: str, column: str, target: str, ondelete: str | None = "CASCADE", **kw: object
) -> sa.Column:  # type: ignore[type-arg]
    kw.setdefault("nullable", False)
    return sa.Column(column, sa.Integer(), _fk(table, column, target, ondelete), **kw)  # type: ignore[arg-type]


def _org(table: str) -> sa.Column:  # type: ignore[type-arg]
    return _ref(table, "org_id", "organisation")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer(), primary_key=True)


def _created(name: str = "created_at") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(), nullable=False)


def _blocklists() -> None:
    op.create_table(
        "endpoint_operator_blacklist",
        _ref("endpoint_operator_blacklist", "endpoint_id", "endpoint", primary_key=True),
        sa.Column("operator_id", sa.Integer(), primary_key=True),
        _org("endpoint_operator_blacklist"),
        _created(),
    )
    op.create_table(
        "tariff_operator_block",
        _ref(
            "tariff_operator_block", "tariff_profile_id", "tariff_profile", primary_key=True
        ),
        sa.Column("operator_id", sa.Integer(), primary_key=True),
        _org("tariff_operator_block"),
        _created(),
    )
    op.create_table(
        "tariff_rat_block",
        _ref("tariff_rat_block", "tariff_profile_id", "tariff_profile", primary_key=True),
        sa.Column("operator_id", sa.Integer(), primary_key=True),
        sa.Column("rat_type_id", sa.Integer(), primary_key=True),
        _org("tariff_rat_block"),
        _created(),
    )


def _traffic() -> None:
    services = op.create_table(
        "profile_service",
        _ref("profile_service", "service_profile_id", "service_profile", primary_key=True),
        sa.Column("service_id", sa.Integer(), primary_key=True),
        _org("profile_service"),
    )
    rows = op.get_bind().execute(sa.text("SELECT id, org_id FROM service_profile")).all()
    op.bulk_insert(
        services,
        [
            {"service_profile_id": pid, "service_id": sid, "org_id": org}
            for pid, org in rows
            for sid in DEFAULT_SERVICES
        ],
    )
    t = "profile_data_limit"
    op.create_table(
        t,
        _id(),
        _org(t),
        _ref(t, "service_profile_id", "service_profile"),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("satellite_only", sa.Boolean(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        sa.Column("warning_percent", sa.Integer(), nullable=True),
        _created(),
        sa.UniqueConstraint(
            "service_profile_id",
            "service_id",
            "satellite_only",
            name="uq_profile_data_limit_kind",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{t}_service_profile_id", t, ["service_profile_id"])
    op.create_table(
        "profile_sms_limit",
        _ref(
            "profile_sms_limit", "service_profile_id", "service_profile", primary_key=True
        ),
        sa.Column("service_id", sa.Integer(), primary_key=True),
        sa.Column("limit_id", sa.Integer(), primary_key=True),
        _org("profile_sms_limit"),
    )
    t = "traffic_limit_extension"
    op.create_table(
        t,
        _id(),
        _org(t),
        _ref(t, "endpoint_id", "endpoint"),
        _ref(t, "traffic_limit_id", "profile_data_limit"),
        sa.Column("volume", sa.BigInteger(), nullable=False),
        _created("expiration_date"),
        _created(),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{t}_endpoint", t, ["endpoint_id", "expiration_date"])


def _quotas() -> None:
    t = "endpoint_quota"
    op.create_table(
        t,
        _id(),
        _org(t),
        _ref(t, "endpoint_id", "endpoint"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("last_volume_added", sa.BigInteger(), nullable=False),
        _created("expiry_date"),
        sa.Column("auto_refill", sa.Boolean(), nullable=False),
        sa.Column("threshold_percentage", sa.Float(), nullable=True),
        sa.Column("action_on_exhaustion", sa.Integer(), nullable=False),
        _created("last_status_change_date"),
        sa.Column("refilled_on", sa.Date(), nullable=False),
        sa.Column("threshold_reached", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("endpoint_id", "kind", name="uq_endpoint_quota_endpoint_kind"),
        sqlite_autoincrement=True,
    )


def _sms() -> None:
    op.create_table(
        "sms",
        _id(),
        _org("sms"),
        _ref("sms", "endpoint_id", "endpoint"),
        sa.Column("sms_type", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("source_address", sa.String(32), nullable=False),
        sa.Column("source_address_type", sa.Integer(), nullable=False),
        sa.Column("dest_address", sa.String(32), nullable=True),
        sa.Column("udh", sa.String(64), nullable=True),
        sa.Column("dcs", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _ref("sms", "sim_id", "sim", "SET NULL", nullable=True),
        sa.Column("iccid", sa.String(20), nullable=True),
        sa.Column("imsi", sa.String(15), nullable=True),
        sa.Column("msisdn", sa.String(15), nullable=True),
        _created("submit_date"),
        _created("expiry_date"),
        *[
            sa.Column(c, UTCDateTime(), nullable=True)
            for c in ("delivery_date", "final_date", "last_delivery_attempt")
        ],
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("gsm_map_error", sa.String(255), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sms_endpoint_id_id", "sms", ["endpoint_id", "id"])


def _callbacks() -> None:
    op.create_table(
        "api_callback",
        _id(),
        _org("api_callback"),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        _created(),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_secret",
        _id(),
        _org("api_secret"),
        sa.Column("secret", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=True),
        _created(),
        sqlite_autoincrement=True,
    )
    t = "profile_callback"
    op.create_table(
        t,
        _ref(t, "service_profile_id", "service_profile", primary_key=True),
        _org(t),
        _ref(t, "api_callback_id", "api_callback", None, nullable=True),
        _ref(t, "api_secret_id", "api_secret", None, nullable=True),
    )
    op.create_index(f"ix_{t}_api_callback_id", t, ["api_callback_id"])
    op.create_index(f"ix_{t}_api_secret_id", t, ["api_secret_id"])
    t = "callback_delivery"
    op.create_table(
        t,
        _id(),
        _org(t),
        _ref(t, "endpoint_id", "endpoint"),
        _ref(t, "sms_id", "sms"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _created("next_attempt_at"),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _created(),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_callback_delivery_due", t, ["state", "next_attempt_at"])
    op.create_index(f"ix_{t}_sms_id", t, ["sms_id"])


def upgrade() -> None:
    _blocklists()
    _traffic()
    _quotas()
    _sms()
    _callbacks()


def downgrade() -> None:
    for table in (
        "callback_delivery",
        "profile_callback",
        "api_secret",
        "api_callback",
        "sms",
        "endpoint_quota",
        "traffic_limit_extension",
        "profile_sms_limit",
        "profile_data_limit",
        "profile_service",
        "tariff_rat_block",
        "tariff_operator_block",
        "endpoint_operator_blacklist",
    ):
        op.drop_table(table)
