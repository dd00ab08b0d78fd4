"""aws_rate_bucket table: the AWS rate budget shared by processes on PostgreSQL.

Revision ID: 0012_aws_rate_bucket
Revises: 0011_sms_quotas

Owned by linkplane.cloud (budget.py). Created on SQLite too, where it stays empty: one
process there keeps its buckets in memory.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_aws_rate_bucket"
down_revision = "0011_sms_quotas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aws_rate_bucket",
        sa.Column("service", sa.String(16), nullable=False),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("action_class", sa.String(16), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("stamp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "service", "account", "region", "action_class", name="pk_aws_rate_bucket"
        ),
    )


def downgrade() -> None:
    op.drop_table("aws_rate_bucket")
