"""VPN breakouts (types 2-3): the request and the VPN resources a breakout owns.

Revision ID: 0016_vpn_breakouts
Revises: 0015_regions_peering

Owned by linkplane.attachments. Columns on ``breakout`` (not a table of their own) because
compensations, the sweep's leftovers and the audit read what a row owns in one place.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_vpn_breakouts"
down_revision = "0015_regions_peering"
branch_labels = None
depends_on = None

COLUMNS = (
    ("vpn_public_ip", sa.String(45), None),
    ("vpn_asn", sa.BigInteger(), None),
    ("vpn_psk", sa.String(64), None),
    ("vpn_inside_cidrs", sa.Text(), "[]"),
    ("customer_gateway_id", sa.String(64), None),
    ("vpn_connection_id", sa.String(64), None),
    ("vpn_tunnels", sa.Text(), "[]"),
)


def upgrade() -> None:
    with op.batch_alter_table("breakout") as batch:
        for name, kind, default in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=default is None,
                                       server_default=default))  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("breakout") as batch:
        for name, _kind, _default in reversed(COLUMNS):
            batch.drop_column(name)
