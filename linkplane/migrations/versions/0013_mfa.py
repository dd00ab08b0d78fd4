"""MFA keys, trusted devices and pending MFA challenges.

Revision ID: 0013_mfa
Revises: 0012_aws_rate_bucket

Owned by linkplane.mfa. Secrets are never stored in clear: the TOTP secret is encrypted, the
``mfa_token`` and trusted-device fingerprints are stored as SHA-256.
"""

import sqlalchemy as sa
from alembic import op

from linkplane.db import UTCDateTime

revision = "0013_mfa"
down_revision = "0012_aws_rate_bucket"
branch_labels = None
depends_on = None


def _user(table: str) -> sa.Column:  # type: ignore[type-arg]
    fk = sa.ForeignKey("app_user.id", ondelete="CASCADE", name=f"fk_{table}_user_id_app_user")
    return sa.Column("user_id", sa.Integer(), fk, nullable=False)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Integer(), primary_key=True)


def _time(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "mfa_key",
        _id(),
        _user("mfa_key"),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.String(256), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("activated_at", nullable=True),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        _time("locked_until", nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mfa_key_user_id", "mfa_key", ["user_id"])
    op.create_table(
        "mfa_trusted_device",
        _id(),
        _user("mfa_trusted_device"),
        sa.Column("fingerprint_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("operating_system", sa.String(256), nullable=True),
        sa.Column("browser", sa.String(256), nullable=True),
        _time("created_at"),
        _time("expires_at"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mfa_trusted_device_user_id", "mfa_trusted_device", ["user_id"])
    op.create_index(
        "ix_mfa_trusted_device_fingerprint_hash", "mfa_trusted_device", ["fingerprint_hash"]
    )
    op.create_table(
        "mfa_challenge",
        _id(),
        _user("mfa_challenge"),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _time("expires_at"),
        sa.UniqueConstraint("token_hash", name="uq_mfa_challenge_token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mfa_challenge_user_id", "mfa_challenge", ["user_id"])


def downgrade() -> None:
    op.drop_table("mfa_challenge")
    op.drop_table("mfa_trusted_device")
    op.drop_table("mfa_key")
