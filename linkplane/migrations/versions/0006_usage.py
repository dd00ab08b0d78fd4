"""usage table: daily bytes per endpoint, imported from the provider's mobile core.

Revision ID: 0006_usage
Revises: 0005_isolation

Owned by the usage feature.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0006_usage"
down_revision = "0005_isolation"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        f"{target}.id", ondelete=ondelete, name=f"fk_usage_record_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "usage_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("org_id", sa.Integer(), _fk("org_id", "organisation", "CASCADE"), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), _fk("endpoint_id", "endpoint", "SET NULL")),
        sa.Column("sim_id", sa.Integer(), _fk("sim_id", "sim", "SET NULL")),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes_tx", sa.BigInteger(), nullable=False),
        sa.Column("bytes_rx", sa.BigInteger(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("endpoint_id", "day", name="uq_usage_record_endpoint_day"),
    )
    op.create_index("ix_usage_record_org_id_day", "usage_record", ["org_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_usage_record_org_id_day", table_name="usage_record")
    op.drop_table("usage_record")
