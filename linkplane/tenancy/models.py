"""Tenancy tables: organisations (the tenants), users and tokens.

Secrets are stored only as hashes (see :mod:`linkplane.tenancy.security`).
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from linkplane.db import Base, UTCDateTime, utcnow


class UserStatus(IntEnum):
    """emnify user status ids."""

    ACTIVATION_PENDING = 0
    ACTIVE = 1
    SUSPENDED = 2


#: Allowed user status changes (emnify: ACTIVE <-> SUSPENDED, ACTIVATION_PENDING -> SUSPENDED).
USER_TRANSITIONS: dict[UserStatus, frozenset[UserStatus]] = {
    UserStatus.ACTIVATION_PENDING: frozenset({UserStatus.SUSPENDED}),
    UserStatus.ACTIVE: frozenset({UserStatus.SUSPENDED}),
    UserStatus.SUSPENDED: frozenset({UserStatus.ACTIVE}),
}


class TokenStatus(IntEnum):
    """emnify application token status ids; revocation is final."""

    ACTIVATED = 0
    REVOKED = 1


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Admins of a provider organisation manage all organisations (API and CLI).
    is_provider: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    #: The e-mail address; usernames are global because login names no organisation.
    username: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    #: argon2id hash; None until a password is set (emnify's ACTIVATION_PENDING).
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    status: Mapped[int] = mapped_column(Integer, default=UserStatus.ACTIVE)
    #: "admin" or "observer" (see :class:`linkplane.tenancy.principal.Role`).
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Unused since migration 0014: failures are counted per username and source address in
    #: :class:`LoginThrottle`. Kept so that older processes in a rolling upgrade still run.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ApplicationToken(Base):
    __tablename__ = "application_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    #: SHA-256 hex of the secret shown once on creation.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(512), nullable=True)
    status: Mapped[int] = mapped_column(Integer, default=TokenStatus.ACTIVATED)
    role: Mapped[str] = mapped_column(String(16))
    creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expiry_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Optional CIDR the token may authenticate from.
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshToken(Base):
    __tablename__ = "refresh_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class LoginThrottle(Base):
    """Failed sign-ins per (username, source address): 3 in a row lock that pair for five
    minutes. Unknown usernames are counted too, so a lockout reveals nothing."""

    __tablename__ = "login_throttle"

    #: The username as typed (lowercased), whether or not such a user exists.
    username: Mapped[str] = mapped_column(String(254), primary_key=True)
    #: The client address (behind proxies: as ``LINKPLANE_TRUSTED_PROXIES`` vouch for it).
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
