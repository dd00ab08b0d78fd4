"""isolation tables.

Revision ID: 0005_isolation
Revises: 0004_breakouts

Owned by the isolation feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0005_isolation"
down_revision = "0004_breakouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
