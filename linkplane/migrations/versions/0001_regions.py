"""regions tables.

Revision ID: 0001_regions
Revises: None

Owned by the regions feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0001_regions"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(12), nullable=False),
        sa.Column("tgw_id", sa.String(64), nullable=False),
        sa.Column("tgw_arn", sa.String(256), nullable=False),
        sa.Column("tgw_adopted", sa.Boolean(), nullable=False),
        sa.Column("core_route_table_id", sa.String(64), nullable=False),
        sa.Column("customers_route_table_id", sa.String(64), nullable=False),
        sa.Column("core_vpc_id", sa.String(64), nullable=False),
        sa.Column("core_vpc_cidr", sa.String(64), nullable=False),
        sa.Column("core_vpc_adopted", sa.Boolean(), nullable=False),
        sa.Column("core_attachment_id", sa.String(64), nullable=False),
        sa.Column("subnet_ids", sa.JSON(), nullable=False),
        sa.Column("device_cidr", sa.String(64), nullable=False),
        sa.Column("customer_aggregate_cidr", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_region_name"),
    )


def downgrade() -> None:
    op.drop_table("region")
