"""fleet tables.

Revision ID: 0003_fleet
Revises: 0002_tenancy

Owned by the fleet feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003_fleet"
down_revision = "0002_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
