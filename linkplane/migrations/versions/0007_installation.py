"""installation table: the installation id, generated once per database.

Revision ID: 0007_installation
Revises: 0006_usage

Owned by the installation feature. A database upgraded from 0006 gets its id here, once,
and keeps it: what it created before (untagged, old names) is recognised as legacy (see
docs/cloud-connect.md, "Installation id").
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0007_installation"
down_revision = "0006_usage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "installation",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    # Generated here rather than on first use: concurrent first opens run migrations under
    # one lock (linkplane.db.migrate), so exactly one id is ever written.
    op.bulk_insert(table, [{"id": secrets.token_hex(4), "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("installation")
