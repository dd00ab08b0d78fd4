"""MFA tables: a user's TOTP key, the devices they trust, and pending sign-in challenges.

No secret is stored in clear: the TOTP secret is encrypted (:mod:`linkplane.mfa.vault`), the
``mfa_token`` of a challenge and a trusted device's fingerprint are stored as SHA-256.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class KeyStatus(IntEnum):
    """emnify MFA key status ids (``{"status": {"id": 1}}`` activates a key)."""

    ACTIVATION_PENDING = 0
    ACTIVE = 1


class KeyType(IntEnum):
    """emnify MFA key type ids; linkplane offers time-based one-time passwords only."""

    TOTP = 1


class MfaKey(Base):
    __tablename__ = "mfa_key"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    type: Mapped[int] = mapped_column(Integer, default=KeyType.TOTP)
    status: Mapped[int] = mapped_column(Integer, default=KeyStatus.ACTIVATION_PENDING)
    #: The base32 TOTP secret, AES-GCM encrypted (see linkplane.mfa.vault).
    secret_enc: Mapped[str] = mapped_column(String(256))
    #: The newest 30-second time step whose code was accepted: older and equal steps are
    #: refused, so a code cannot be replayed within its window.
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Consecutive wrong sign-in codes, over every mfa_token: asking for a new mfa_token
    #: (the password again) must not buy fresh guesses. At the limit the key is locked.
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TrustedDevice(Base):
    __tablename__ = "mfa_trusted_device"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    #: SHA-256 hex of the fingerprint the client sends with later logins.
    fingerprint_hash: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    operating_system: Mapped[str | None] = mapped_column(String(256), nullable=True)
    browser: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Challenge(Base):
    """A password check passed, the second factor still owed: the ``mfa_token``'s row."""

    __tablename__ = "mfa_challenge"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
