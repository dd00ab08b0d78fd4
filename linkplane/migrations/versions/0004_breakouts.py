"""breakouts tables: Cloud Connect breakouts and workflow executor heartbeats.

Revision ID: 0004_breakouts
Revises: 0003_fleet

Owned by the breakouts feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0004_breakouts"
down_revision = "0003_fleet"
branch_labels = None
depends_on = None


def _nullable_str(name: str, length: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.String(length), nullable=True)


def upgrade() -> None:
    op.create_table(
        "breakout",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "org_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisation.id", ondelete="CASCADE", name="fk_breakout_org_id_organisation"
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("aws_account_id", sa.String(12), nullable=False),
        sa.Column("vpc_cidrs", sa.Text(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("delete_requested", sa.Boolean(), nullable=False),
        sa.Column("creation_date", UTCDateTime(), nullable=False),
        sa.Column("invitation_expiry_date", UTCDateTime(), nullable=True),
        sa.Column("accept_attachment_expiry_date", UTCDateTime(), nullable=True),
        sa.Column("termination_date", UTCDateTime(), nullable=True),
        _nullable_str("tgw_id", 64),
        _nullable_str("share_arn", 256),
        _nullable_str("attachment_id", 64),
        _nullable_str("associated_route_table_id", 64),
        _nullable_str("core_route_table_id", 64),
        sa.Column("routes", sa.Text(), nullable=False),
    )
    op.create_index("ix_breakout_org_status", "breakout", ["org_id", "status_id"])
    op.create_index("ix_breakout_region_account", "breakout", ["region", "aws_account_id"])
    op.create_table(
        "breakout_executor",
        sa.Column("executor_id", sa.String(128), primary_key=True),
        sa.Column("application_version", sa.String(64), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("breakout_executor")
    op.drop_index("ix_breakout_region_account", table_name="breakout")
    op.drop_index("ix_breakout_org_status", table_name="breakout")
    op.drop_table("breakout")
