"""isolation tables: the core policy state per gateway.

Revision ID: 0005_isolation
Revises: 0004_breakouts

Owned by the isolation feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0005_isolation"
down_revision = "0004_breakouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_policy_state",
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("cidrs", sa.Integer(), nullable=False),
        sa.Column("loaded_into", sa.String(128), nullable=False),
        sa.Column("loaded", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("core_policy_state")
