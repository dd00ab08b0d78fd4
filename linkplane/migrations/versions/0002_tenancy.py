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
        sa.UniqueConstraint("name", name="uq_organisation_name"),
    )
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


def downgrade() -> None:
    op.drop_table("event")
    op.drop_table("organisation")
