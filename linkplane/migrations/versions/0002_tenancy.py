"""tenancy tables.

Revision ID: 0002_tenancy
Revises: 0001_regions

Owned by the tenancy feature; the chain of revisions is fixed so features can be built in
parallel without branching the history.
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002_tenancy"
down_revision = "0001_regions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
