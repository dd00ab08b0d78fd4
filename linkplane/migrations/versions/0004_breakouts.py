"""breakouts tables.

Revision ID: 0004_breakouts
Revises: 0003_fleet

Owned by the breakouts feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004_breakouts"
down_revision = "0003_fleet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
