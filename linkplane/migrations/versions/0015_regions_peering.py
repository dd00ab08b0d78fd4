"""Multi-region core: service profile breakout region, region peering table.

Revision ID: 0015_regions_peering
Revises: 0014_login_throttle

Owned by linkplane.regions (``region_peering``, ``region.peering_route_table_id``) and
linkplane.profiles (``service_profile.breakout_region``) and linkplane.attachments
(``breakout.crossregion_routes``: routes over a peering, recorded before they are made).

Existing rows keep working: a profile without a breakout region takes addresses from any of
its organisation's spaces, and a region without peerings has no peering route table.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0015_regions_peering"
down_revision = "0014_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "service_profile", sa.Column("breakout_region", sa.String(32), nullable=True)
    )
    op.add_column(
        "region", sa.Column("peering_route_table_id", sa.String(64), nullable=True)
    )
    op.add_column(
        "breakout",
        sa.Column("crossregion_routes", sa.Text(), nullable=False, server_default="[]"),
    )
    op.create_table(
        "region_peering",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("peer_region", sa.String(32), nullable=False),
        sa.Column("attachment_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("region", "peer_region", name="uq_region_peering_pair"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("region_peering")
    with op.batch_alter_table("breakout") as batch:
        batch.drop_column("crossregion_routes")
    with op.batch_alter_table("region") as batch:
        batch.drop_column("peering_route_table_id")
    with op.batch_alter_table("service_profile") as batch:
        batch.drop_column("breakout_region")
