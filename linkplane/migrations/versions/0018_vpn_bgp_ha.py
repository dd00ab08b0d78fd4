"""VPN breakouts of type 4 (BGP High Availability): the second customer gateway, VPN
connection and ``vpn`` attachment a breakout owns.

Revision ID: 0018_vpn_bgp_ha
Revises: 0017_vpn_psk_at_rest

Owned by linkplane.attachments. Columns on ``breakout``, beside the first connection's, for
the same reason as 0016: compensations, the sweep's leftovers and the audit read what a row
owns in one place.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_vpn_bgp_ha"
down_revision = "0017_vpn_psk_at_rest"
#: On SQLite a batch that drops a column copies the table into a new one: without this the
#: copy loses AUTOINCREMENT, and a deleted newest breakout's id would be handed out again.
_KEEP_IDS = {"sqlite_autoincrement": True}
branch_labels = None
depends_on = None

COLUMNS = (
    ("vpn_public_ip_2", sa.String(45)),
    ("customer_gateway_id_2", sa.String(64)),
    ("vpn_connection_id_2", sa.String(64)),
    ("attachment_id_2", sa.String(64)),
    ("vpn_routed_connection", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("breakout", table_kwargs=_KEEP_IDS) as batch:
        for name, _kind in reversed(COLUMNS):
            batch.drop_column(name)
