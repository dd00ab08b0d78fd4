"""login_throttle table: failed sign-ins counted per username and source address.

Revision ID: 0014_login_throttle
Revises: 0013_mfa

Owned by linkplane.tenancy. Replaces counting on the user row: a lockout then binds only
the address that failed (nobody elsewhere can lock a user out), and unknown usernames lock
exactly like known ones (the answer does not reveal which usernames exist).
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0014_login_throttle"
down_revision = "0013_mfa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(254), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", "source", name="pk_login_throttle"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
