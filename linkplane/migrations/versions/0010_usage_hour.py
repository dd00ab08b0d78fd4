"""usage_hour: traffic by hour, for usage records delivered with an hour.

Revision ID: 0010_usage_hour
Revises: 0009_tariffs

Owned by the usage feature (emnify's hourly organisation statistics, issue 12).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0010_usage_hour"
down_revision = "0009_tariffs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_hour",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisation.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("endpoint_id", sa.Integer, sa.ForeignKey("endpoint.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("sim_id", sa.Integer, sa.ForeignKey("sim.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("bytes_tx", sa.BigInteger, nullable=False),
        sa.Column("bytes_rx", sa.BigInteger, nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("endpoint_id", "hour", name="uq_usage_hour_endpoint_hour"),
        sa.Index("ix_usage_hour_org_id_hour", "org_id", "hour"),
        sqlite_autoincrement=True,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("usage_hour")
