"""Breakout CIDRs as indexed integer ranges, so a create's overlap check is O(log N).

Revision ID: 0019_breakout_cidr_index
Revises: 0018_vpn_bgp_ha

Owned by linkplane.attachments. Before this, each create read the CIDRs of every live
breakout on the TGW, and filling 10,000 parked breakouts took quadratic time. The rows are
derived from ``breakout.vpc_cidrs``, which never changes after a create; the upgrade fills
them for the breakouts already stored.
"""

import ipaddress
import json

import sqlalchemy as sa
from alembic import op

revision = "0019_breakout_cidr_index"
down_revision = "0018_vpn_bgp_ha"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "breakout_cidr",
        sa.Column("breakout_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cidr", sa.String(18), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("prefixlen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["breakout_id"], ["breakout.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("breakout_id", "position"),
    )
    op.create_index("ix_breakout_cidr_start", "breakout_cidr", ["start", "prefixlen"])
    rows = op.get_bind().execute(sa.text("SELECT id, vpc_cidrs FROM breakout"))
    values = [
        _row(breakout_id, position, cidr)
        for breakout_id, cidrs in rows
        for position, cidr in enumerate(json.loads(cidrs or "[]"))
    ]
    if values:
        op.bulk_insert(table, values)


def _row(breakout_id: int, position: int, cidr: str) -> dict[str, object]:
    net = ipaddress.IPv4Network(cidr, strict=False)
    return {"breakout_id": breakout_id, "position": position, "cidr": str(net),
            "start": int(net.network_address), "prefixlen": net.prefixlen}  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_breakout_cidr_start", table_name="breakout_cidr")
    op.drop_table("breakout_cidr")
