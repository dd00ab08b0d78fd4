"""tenancy tables: organisations, users, tokens, events.

Revision ID: 0002_tenancy
Revises: 0001_regions

Owned by the tenancy feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0002_tenancy"
down_revision = "0001_regions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("is_provider", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name="uq_organisation_name"),
    )
    _users_and_tokens()
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisation.id", ondelete="CASCADE", name="fk_event_org_id_organisation"
            ),
            nullable=False,
        ),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("entity_type", sa.String(32), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_event_org_ts", "event", ["org_id", "timestamp"])
    op.create_index("ix_event_entity", "event", ["entity_type", "entity_id"])


def _org_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "organisation.id", ondelete="CASCADE", name=f"fk_{table}_org_id_organisation"
    )


def _users_and_tokens() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), _org_fk("app_user"), nullable=False),
        sa.Column("username", sa.String(254), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("username", name="uq_app_user_username"),
    )
    op.create_index("ix_app_user_org_id", "app_user", ["org_id"])
    op.create_table(
        "application_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), _org_fk("application_token"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("description", sa.String(512), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "creator_id",
            sa.Integer(),
            sa.ForeignKey(
                "app_user.id", ondelete="SET NULL", name="fk_application_token_creator_id_app_user"
            ),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expiry_date", UTCDateTime(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_application_token_token_hash"),
    )
    op.create_index("ix_application_token_org_id", "application_token", ["org_id"])
    op.create_table(
        "refresh_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "app_user.id", ondelete="CASCADE", name="fk_refresh_token_user_id_app_user"
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_refresh_token_token_hash"),
    )
    op.create_index("ix_refresh_token_user_id", "refresh_token", ["user_id"])


def downgrade() -> None:
    op.drop_table("refresh_token")
    op.drop_table("application_token")
    op.drop_table("app_user")
    op.drop_table("event")
    op.drop_table("organisation")
