"""Tenancy services: organisations, users, application tokens, authentication.

Every function takes keyword-only arguments and raises :mod:`linkplane.errors` exceptions;
queries of organisation-owned rows go through :mod:`linkplane.tenancy.scope`.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from linkplane.db import UTCDateTime, like_contains, transaction, utcnow
from linkplane.errors import Conflict, InvalidInput, NotFound, Unauthorized
from linkplane.events.service import record
from linkplane.ids import MAX_ID, ascii_digits, bounded_int, in_range
from linkplane.settings import Settings
from linkplane.tenancy import security
from linkplane.tenancy.models import (
    USER_TRANSITIONS,
    ApplicationToken,
    LoginThrottle,
    Organisation,
    RefreshToken,
    TokenStatus,
    User,
    UserStatus,
)
from linkplane.tenancy.principal import Principal, Role
from linkplane.tenancy.scope import get_scoped, scoped

LOCKOUT_AFTER = 3
LOCKOUT_SECONDS = 300
#: Failed sign-ins of a (username, address) pair are forgotten this long after the last one,
#: unless the pair is locked: kept for ever, a password spray with made-up usernames grew
#: ``login_throttle`` without end. Three failures in a row within it still lock.
FAILURES_FORGOTTEN_AFTER = timedelta(days=1)
_BAD_LOGIN = "invalid username or password"
_LOCKED = "TooManyRequests: account locked for 5 minutes after 3 failures"
_REVOKED = "auth_token no longer valid: the user or token was revoked or suspended"
_BAD_APP_TOKEN = "invalid application token"  # noqa: S105 - a message


@dataclass(frozen=True)
class Tokens:
    auth_token: str
    refresh_token: str | None = None


@dataclass(frozen=True)
class MfaPending:
    """The password was right but a second factor is owed: the client sends ``mfa_token``
    with the one-time ``code`` next (emnify's MFA flow)."""

    mfa_token: str


#: Asked once the password is verified, inside the login transaction: an ``mfa_token`` when
#: the user still owes a second factor, else None. :mod:`linkplane.mfa` supplies it.
SecondFactor = Callable[[Session, User], str | None]


@dataclass(frozen=True)
class DemoCredentials:
    org_name: str
    email: str
    password: str
    generated: bool


# --- authentication ------------------------------------------------------------------------


def _key(settings: Settings) -> str:
    return security.signing_key(jwt_secret=settings.jwt_secret, data_dir=settings.data_dir)


def mint(
    *,
    settings: Settings,
    org_id: int,
    role: str,
    user_id: int | None = None,
    app_token_id: int | None = None,
    session_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """A signed auth_token for a user or an application token (also used by tests)."""
    claims = security.AuthClaims(
        org_id=org_id,
        role=role,
        user_id=user_id,
        app_token_id=app_token_id,
        session_id=session_id,
    )
    return security.mint_auth_token(
        key=_key(settings),
        claims=claims,
        now=now or utcnow(),
        ttl_seconds=settings.auth_token_ttl_seconds,
    )


def principal_from_auth_token(*, session: Session, settings: Settings, token: str) -> Principal:
    """Resolve a bearer ``auth_token`` to the calling principal (or raise Unauthorized).

    The signature proves who minted it; one primary-key lookup (joined with the organisation)
    proves the user or application token is still allowed, so suspension, deletion and
    revocation take effect at once. The role comes from the database, not from the token.
    """
    claims = security.decode_auth_token(key=_key(settings), token=token)
    if claims.user_id is not None:
        org_id, role_name, is_provider = _live_user(session, claims.user_id)
        if claims.session_id is not None and not _session_live(session, claims):
            raise Unauthorized(_REVOKED)
    else:
        assert claims.app_token_id is not None
        org_id, role_name, is_provider = _live_app_token(session, claims.app_token_id)
    if org_id != claims.org_id:
        raise Unauthorized(_REVOKED)
    role = Role(role_name)
    return Principal(
        user_id=claims.user_id,
        org_id=org_id,
        role=role,
        provider_admin=is_provider and role is Role.ADMIN,
        token_id=claims.app_token_id,
    )


def _live_user(session: Session, user_id: int) -> tuple[int, str, bool]:
    row = session.execute(
        select(User.status, User.role, User.org_id, Organisation.is_provider)
        .join(Organisation, Organisation.id == User.org_id)
        .where(User.id == user_id)
    ).one_or_none()
    if row is None or row.status != UserStatus.ACTIVE:
        raise Unauthorized(_REVOKED)
    return row.org_id, row.role, bool(row.is_provider)


def _session_live(session: Session, claims: security.AuthClaims) -> bool:
    """The sign-in this token belongs to is still open (not signed out, not rotated away by
    a refresh, not ended by a password change or suspension)."""
    row = session.execute(
        select(RefreshToken.revoked, RefreshToken.expires_at).where(
            RefreshToken.id == claims.session_id, RefreshToken.user_id == claims.user_id
        )
    ).one_or_none()
    return row is not None and not row.revoked and row.expires_at > utcnow()


def end_session(*, session: Session, settings: Settings, token: str) -> None:
    """Sign out: the session of this auth_token ends now (its cookie, bearer use and
    refresh token are all refused afterwards). Unknown or expired tokens are ignored."""
    try:
        claims = security.decode_auth_token(key=_key(settings), token=token)
    except Unauthorized:
        return
    if claims.session_id is None:
        return
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == claims.session_id, RefreshToken.user_id == claims.user_id)
        .values(revoked=True)
        .execution_options(synchronize_session=False)
    )


def _live_app_token(session: Session, token_id: int) -> tuple[int, str, bool]:
    state = _app_token_state(session, ApplicationToken.id == token_id)
    if state is None:
        raise Unauthorized(_REVOKED)
    return state


def _app_token_state(session: Session, which: ColumnElement[bool]) -> tuple[int, str, bool] | None:
    """(org, effective role, provider org) of a usable application token, else None.

    A token acts for its creator and never beyond them: it stops working when the creator
    is deleted or is no longer active, and its role is the lesser of the role it was
    created with and the creator's current role (a demoted admin's token is an observer's).
    """
    row = session.execute(
        select(
            ApplicationToken.status,
            ApplicationToken.role,
            ApplicationToken.org_id,
            ApplicationToken.expiry_date,
            Organisation.is_provider,
            User.status.label("creator_status"),
            User.role.label("creator_role"),
        )
        .join(Organisation, Organisation.id == ApplicationToken.org_id)
        .outerjoin(User, User.id == ApplicationToken.creator_id)
        .where(which)
    ).one_or_none()
    if row is None or not _token_usable(row.status, row.expiry_date, utcnow()):
        return None
    if row.creator_status != UserStatus.ACTIVE:
        return None
    role = Role.OBSERVER.value if Role.OBSERVER.value in (row.role, row.creator_role) else row.role
    return row.org_id, role, bool(row.is_provider)


def _token_usable(status: int, expiry: datetime | None, now: datetime) -> bool:
    return status == TokenStatus.ACTIVATED and (expiry is None or expiry > now)


def _ip_allowed(cidr: str | None, client_ip: str | None) -> bool:
    if not cidr:
        return True
    try:
        return client_ip is not None and ipaddress.ip_address(client_ip) in ipaddress.ip_network(
            cidr, strict=False
        )
    except ValueError:
        return False


def authenticate_application_token(
    *, session: Session, settings: Settings, token: str, client_ip: str | None
) -> Tokens:
    """Exchange an application token for an auth_token (emnify returns no refresh token)."""
    app = session.scalar(
        select(ApplicationToken).where(ApplicationToken.token_hash == security.token_hash(token))
    )
    if app is None or _app_token_state(session, ApplicationToken.id == app.id) is None:
        raise Unauthorized(_BAD_APP_TOKEN)
    if not _ip_allowed(app.ip, client_ip):
        raise Unauthorized(_BAD_APP_TOKEN)
    auth = mint(settings=settings, org_id=app.org_id, role=app.role, app_token_id=app.id)
    return Tokens(auth_token=auth)


def authenticate_password(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    username: str,
    password: str,
    source: str | None,
    second_factor: SecondFactor | None = None,
) -> Tokens | MfaPending:
    """Log a user in. Failures are counted per username and source address in their own
    committed transaction: three in a row lock that pair for five minutes, for unknown
    usernames exactly as for known ones (the answers reveal nothing). With
    ``second_factor``, a user who owes one gets :class:`MfaPending` instead of tokens.

    The slow password check runs outside any transaction: no connection is held during it,
    and each write transaction starts with its write (SQLite then waits for the lock instead
    of failing a read-to-write upgrade under parallel logins)."""
    now = utcnow()
    name, where = username.strip().lower(), (source or "")[:64]
    with transaction(factory) as session:
        if _locked(session, name, where, now):
            raise Unauthorized(_LOCKED)
        user = session.scalar(select(User).where(User.username == name))
    if user is None:
        security.burn_password_check()
    if user is None or not security.verify_password(user.password_hash, password):
        with transaction(factory) as session:
            failure = _count_failure(session=session, name=name, source=where, user=user, now=now)
        raise Unauthorized(failure)
    if user.status != UserStatus.ACTIVE:
        raise Unauthorized(_BAD_LOGIN)
    with transaction(factory) as session:
        if not _clear_failures(session=session, name=name, source=where, now=now):
            raise Unauthorized(_LOCKED)  # locked by parallel failures while we verified
        mfa_token = second_factor(session, user) if second_factor else None
        if mfa_token is not None:
            return MfaPending(mfa_token=mfa_token)
        return _issue_user_tokens(session=session, settings=settings, user=user, now=now)


def _locked(session: Session, name: str, source: str, now: datetime) -> bool:
    until = session.scalar(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.username == name, LoginThrottle.source == source
        )
    )
    return until is not None and until > now


def _upsert(session: Session) -> Callable[..., Any]:
    dialect = session.get_bind().dialect.name
    return pg_insert if dialect == "postgresql" else sqlite_insert


def _count_failure(
    *, session: Session, name: str, source: str, user: User | None, now: datetime
) -> str:
    """Count one failure atomically in the database (one upsert of ``failures + 1``), never
    in Python: parallel wrong passwords each read the same count and would otherwise lose
    increments, so the account never locked (issue 13 item 3)."""
    table = LoginThrottle.__table__
    locks = table.c.failures + 1 >= LOCKOUT_AFTER
    until = literal(now + timedelta(seconds=LOCKOUT_SECONDS), UTCDateTime())
    stmt = (
        _upsert(session)(table)
        .values(username=name, source=source, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.username, table.c.source],
            set_={
                "failures": case((locks, 0), else_=table.c.failures + 1),
                "locked_until": case((locks, until), else_=table.c.locked_until),
                "last_failure_at": now,
            },
        )
        .returning(table.c.failures)
    )
    count = session.execute(stmt).scalar_one()
    if user is not None:
        record(
            session=session,
            org_id=user.org_id,
            event_type="User authentication failed",
            description=f"Failed login for user {user.username}",
            actor="system",
            entity_type="user",
            entity_id=user.id,
            severity=1,
        )
    return _LOCKED if count == 0 else _BAD_LOGIN


def _clear_failures(*, session: Session, name: str, source: str, now: datetime) -> bool:
    """Forget this pair's failures unless it is locked (the delete comes first, so a lock
    set by a parallel request after our first read still wins)."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.username == name,
            LoginThrottle.source == source,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
    )
    return not _locked(session, name, source, now)


def _issue_user_tokens(
    *, session: Session, settings: Settings, user: User, now: datetime
) -> Tokens:
    """Open a session: its refresh token's row is the server-side session the auth_token
    names (``sid``), so ending the row ends both."""
    refresh = security.new_token()
    row = RefreshToken(
        user_id=user.id,
        token_hash=security.token_hash(refresh),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    session.add(row)
    session.flush()
    auth = mint(
        settings=settings,
        org_id=user.org_id,
        role=user.role,
        user_id=user.id,
        session_id=row.id,
        now=now,
    )
    return Tokens(auth_token=auth, refresh_token=refresh)


def issue_user_tokens(
    *, session: Session, settings: Settings, user: User, now: datetime
) -> Tokens:
    """Tokens for a user whose every factor was checked (the MFA step ends here)."""
    return _issue_user_tokens(session=session, settings=settings, user=user, now=now)


def authenticate_refresh_token(*, session: Session, settings: Settings, token: str) -> Tokens:
    """Rotate: a valid, unused refresh token of an active user is spent (one atomic update,
    so two parallel uses cannot both succeed) for a new session and a new refresh token;
    the old refresh token and the auth_tokens of its session stop working."""
    row = session.execute(
        select(RefreshToken, User)
        .join(User, User.id == RefreshToken.user_id)
        .where(RefreshToken.token_hash == security.token_hash(token))
    ).one_or_none()
    now = utcnow()
    if row is None:
        raise Unauthorized("invalid refresh token")
    refresh, user = row
    if refresh.revoked or refresh.expires_at <= now or user.status != UserStatus.ACTIVE:
        raise Unauthorized("invalid refresh token")
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == refresh.id, RefreshToken.revoked.is_(False))
        .values(revoked=True)
        .execution_options(synchronize_session=False)
    )
    if not getattr(spent, "rowcount", 0):
        raise Unauthorized("invalid refresh token")
    return _issue_user_tokens(session=session, settings=settings, user=user, now=now)


def revoke_refresh_tokens(*, session: Session, user_id: int) -> None:
    """Revoke every refresh token of a user (on suspension, deletion, role change)."""
    for token in session.scalars(select(RefreshToken).where(RefreshToken.user_id == user_id)):
        token.revoked = True


# --- organisations -------------------------------------------------------------------------


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 128:
        raise InvalidInput("name must have 1 to 128 characters", field="name")
    return clean


def create_org(*, session: Session, name: str, is_provider: bool = False) -> Organisation:
    clean = _check_name(name)
    if session.scalar(select(Organisation.id).where(Organisation.name == clean)) is not None:
        raise Conflict(f"organisation {clean!r} already exists", field="name")
    org = Organisation(name=clean, is_provider=is_provider, created_at=utcnow())
    session.add(org)
    session.flush()
    record(
        session=session,
        org_id=org.id,
        event_type="Organisation created",
        description=f"Organisation {clean} created",
        actor="system",
        entity_type="organisation",
        entity_id=org.id,
    )
    return org


def create_org_with_admin(
    *,
    session: Session,
    name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str | None = None,
    is_provider: bool = False,
) -> tuple[Organisation, User]:
    """An organisation and its first administrator, in the caller's transaction."""
    org = create_org(session=session, name=name, is_provider=is_provider)
    admin = create_user(
        session=session,
        org_id=org.id,
        username=admin_email,
        name=admin_name or admin_email.split("@")[0],
        role=Role.ADMIN,
        password=admin_password,
        principal=None,
    )
    return org, admin


def get_org(*, session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found")
    return org


def list_orgs(
    *, session: Session, offset: int = 0, limit: int = 1000
) -> tuple[list[Organisation], int]:
    total = session.scalar(select(func.count(Organisation.id))) or 0
    rows = session.scalars(
        select(Organisation).order_by(Organisation.id).offset(offset).limit(limit)
    )
    return list(rows), total


def ensure_demo_org(*, session: Session, settings: Settings) -> DemoCredentials | None:
    """Create organisation ``demo`` and its admin on first start; None if it exists."""
    if session.scalar(select(Organisation.id).where(Organisation.name == "demo")) is not None:
        return None
    generated = not (settings.demo_email and settings.demo_password)
    email = settings.demo_email or "admin@demo.linkplane.local"
    password = settings.demo_password or secrets.token_urlsafe(12)
    create_org_with_admin(
        session=session,
        name="demo",
        admin_email=email,
        admin_password=password,
        admin_name="Demo Admin",
    )
    return DemoCredentials(
        org_name="demo", email=email.lower(), password=password, generated=generated
    )


# --- users ---------------------------------------------------------------------------------


def _check_email(value: str) -> str:
    email = value.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput("username must be an e-mail address", field="username")
    return email


def _ensure_unique_username(session: Session, username: str, exclude_id: int | None = None) -> None:
    stmt = select(User.id).where(User.username == username)
    existing = session.scalar(stmt)
    if existing is not None and existing != exclude_id:
        raise Conflict(f"username {username} is already taken", field="username")


def create_user(
    *,
    session: Session,
    org_id: int,
    username: str,
    name: str,
    role: Role,
    password: str | None,
    principal: Principal | None,
) -> User:
    """A user of ``org_id``; without a password it stays ACTIVATION_PENDING (cannot log in)."""
    email = _check_email(username)
    _ensure_unique_username(session, email)
    user = User(
        org_id=org_id,
        username=email,
        name=_check_name(name),
        role=role.value,
        password_hash=security.hash_password(password, email) if password else None,
        status=UserStatus.ACTIVE if password else UserStatus.ACTIVATION_PENDING,
        created_at=utcnow(),
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    record(
        session=session,
        org_id=org_id,
        event_type="User created",
        principal=principal,
        description=f"User {email} created with role {role.value}",
        entity_type="user",
        entity_id=user.id,
    )
    return user


def get_user(*, session: Session, org_id: int, user_ref: str | int) -> User:
    """A user of the organisation by id or username (emnify accepts both)."""
    if isinstance(user_ref, int) or ascii_digits(user_ref):
        if not in_range(int(user_ref)):  # no such row can exist; the database would overflow
            raise NotFound(f"user {user_ref} not found", field="user_id")
        return get_scoped(session, User, org_id, int(user_ref), what="user", field="user_id")
    user = session.scalar(
        scoped(select(User), org_id).where(User.username == str(user_ref).lower())
    )
    if user is None:
        raise NotFound(f"user {user_ref} not found", field="user_id")
    return user


USER_SORT = {
    "id": User.id,
    "status": User.status,
    "name": User.name,
    "username": User.username,
    "created": User.created_at,
    "organisation": User.org_id,
}


def list_users(
    *,
    session: Session,
    org_id: int,
    filters: Mapping[str, Sequence[str]],
    sort: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> tuple[list[User], int]:
    stmt = _user_filters(scoped(select(User), org_id), filters)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = [USER_SORT[f].desc() if desc else USER_SORT[f].asc() for f, desc in sort]
    rows = session.scalars(stmt.order_by(*order, User.id).offset(offset).limit(limit))
    return list(rows), total


def _user_filters(
    stmt: Select[tuple[User]], filters: Mapping[str, Sequence[str]]
) -> Select[tuple[User]]:
    for key, values in filters.items():
        if key in ("id", "status"):
            ints = [_int(v, f"q.{key}") for v in values]
            stmt = stmt.where((User.id if key == "id" else User.status).in_(ints))
        elif key in ("name", "username"):
            text = User.name if key == "name" else User.username
            stmt = stmt.where(like_contains(text, values[0]))
        elif key == "organisation":
            stmt = stmt.where(
                User.org_id.in_(
                    select(Organisation.id).where(like_contains(Organisation.name, values[0]))
                )
            )
    return stmt


def _int(value: str, field: str) -> int:
    try:
        return bounded_int(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a whole number from 0 to {MAX_ID}, got {value!r}", field=field
        ) from None


def _active_admins(session: Session, org_id: int) -> int:
    stmt = select(func.count(User.id)).where(
        User.org_id == org_id, User.role == Role.ADMIN.value, User.status == UserStatus.ACTIVE
    )
    return session.scalar(stmt) or 0


def _guard_last_admin(session: Session, user: User, field: str) -> None:
    """Refuse changes that would leave an organisation without an active administrator."""
    is_active_admin = user.role == Role.ADMIN.value and user.status == UserStatus.ACTIVE
    if is_active_admin and _active_admins(session, user.org_id) <= 1:
        raise Conflict("this is the organisation's last active administrator", field=field)


@dataclass(frozen=True)
class UserChanges:
    username: str | None = None
    name: str | None = None
    status: int | None = None
    role: Role | None = None
    password: str | None = None


def update_user(
    *, session: Session, principal: Principal, user_ref: str | int, changes: UserChanges
) -> User:
    user = get_user(session=session, org_id=principal.org_id, user_ref=user_ref)
    before = {
        "username": user.username,
        "name": user.name,
        "status": user.status,
        "role": user.role,
    }
    if changes.username is not None and _check_email(changes.username) != user.username:
        email = _check_email(changes.username)
        _ensure_unique_username(session, email, exclude_id=user.id)
        user.username = email
    if changes.name is not None:
        user.name = _check_name(changes.name)
    if changes.role is not None and changes.role.value != user.role:
        _guard_last_admin(session, user, "roles")
        user.role = changes.role.value
    if changes.status is not None and changes.status != user.status:
        _change_status(session, user, changes.status)
    if changes.password is not None:
        user.password_hash = security.hash_password(changes.password, user.username)
        revoke_refresh_tokens(session=session, user_id=user.id)
    after = {"username": user.username, "name": user.name, "status": user.status, "role": user.role}
    if before["status"] != after["status"] or before["role"] != after["role"]:
        revoke_refresh_tokens(session=session, user_id=user.id)
    record(
        session=session,
        org_id=user.org_id,
        event_type="User updated",
        principal=principal,
        description=f"User {user.username} updated",
        entity_type="user",
        entity_id=user.id,
        detail={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    return user


def _change_status(session: Session, user: User, status: int) -> None:
    try:
        target = UserStatus(status)
    except ValueError:
        raise InvalidInput(f"unknown user status id {status}", field="status.id") from None
    if target not in USER_TRANSITIONS[UserStatus(user.status)]:
        current = UserStatus(user.status).name
        raise InvalidInput(
            f"user status cannot change from {current} to {target.name}", field="status.id"
        )
    if target is UserStatus.ACTIVE and user.password_hash is None:
        raise InvalidInput("user has no password yet: set one to activate", field="status.id")
    if target is UserStatus.SUSPENDED:
        _guard_last_admin(session, user, "status.id")
    user.status = target


def delete_user(*, session: Session, principal: Principal, user_ref: str | int) -> None:
    user = get_user(session=session, org_id=principal.org_id, user_ref=user_ref)
    if user.id == principal.user_id:
        raise Conflict("you cannot delete yourself", field="user_id")
    _guard_last_admin(session, user, "user_id")
    record(
        session=session,
        org_id=user.org_id,
        event_type="User deleted",
        principal=principal,
        description=f"User {user.username} deleted",
        entity_type="user",
        entity_id=user.id,
    )
    session.delete(user)


# --- application tokens --------------------------------------------------------------------


def create_application_token(
    *,
    session: Session,
    principal: Principal,
    description: str | None,
    expiry_date: datetime | None,
    ip: str | None,
) -> tuple[ApplicationToken, str]:
    """A new token; the secret is returned once and only its SHA-256 is stored."""
    if expiry_date is not None and expiry_date.tzinfo is None:
        # emnify's "optional time + time zone": a date without a zone is UTC.
        expiry_date = expiry_date.replace(tzinfo=UTC)
    if expiry_date is not None and expiry_date <= utcnow():
        raise InvalidInput("expiry_date must be in the future", field="expiry_date")
    if ip:
        try:
            ip = str(ipaddress.ip_network(ip, strict=False))
        except ValueError:
            raise InvalidInput(
                f"ip must be an IP address or CIDR, got {ip!r}", field="ip"
            ) from None
    secret = security.new_token()
    token = ApplicationToken(
        org_id=principal.org_id,
        token_hash=security.token_hash(secret),
        description=description,
        status=TokenStatus.ACTIVATED,
        role=principal.role.value,
        creator_id=principal.user_id,
        created_at=utcnow(),
        expiry_date=expiry_date,
        ip=ip or None,
    )
    session.add(token)
    session.flush()
    record(
        session=session,
        org_id=principal.org_id,
        event_type="Application token created",
        principal=principal,
        description=f"Application token {token.id} created",
        entity_type="application_token",
        entity_id=token.id,
    )
    return token, secret


def get_application_token(*, session: Session, org_id: int, token_id: int) -> ApplicationToken:
    return get_scoped(
        session, ApplicationToken, org_id, token_id, what="application token", field="app_token_id"
    )


def list_application_tokens(
    *, session: Session, org_id: int, offset: int, limit: int
) -> tuple[list[ApplicationToken], int]:
    stmt = scoped(select(ApplicationToken), org_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ApplicationToken.id).offset(offset).limit(limit))
    return list(rows), total


def update_application_token(
    *,
    session: Session,
    principal: Principal,
    token_id: int,
    description: str | None,
    status: int | None,
) -> ApplicationToken:
    token = get_application_token(session=session, org_id=principal.org_id, token_id=token_id)
    if description is not None:
        token.description = description
    if status is not None and status != token.status:
        if status != TokenStatus.REVOKED:
            # A revoked secret may have leaked: it never comes back; create a new token.
            raise InvalidInput(
                "a revoked application token cannot be re-activated", field="status.id"
            )
        token.status = TokenStatus.REVOKED
    record(
        session=session,
        org_id=principal.org_id,
        event_type="Application token updated",
        principal=principal,
        entity_type="application_token",
        entity_id=token.id,
        description=f"Application token {token.id} updated (status {token.status})",
    )
    return token


def delete_application_token(*, session: Session, principal: Principal, token_id: int) -> None:
    token = get_application_token(session=session, org_id=principal.org_id, token_id=token_id)
    record(
        session=session,
        org_id=principal.org_id,
        event_type="Application token deleted",
        principal=principal,
        description=f"Application token {token.id} deleted",
        entity_type="application_token",
        entity_id=token.id,
    )
    session.delete(token)


@dataclass(frozen=True)
class Pruned:
    """What one housekeeping pass deleted."""

    sign_in_failures: int
    refresh_tokens: int


def prune_sign_in_state(*, session: Session, now: datetime) -> Pruned:
    """Delete failure counts nobody needs any more (see :data:`FAILURES_FORGOTTEN_AFTER`;
    never a live lock) and refresh tokens past their expiry (refused anyway; a revoked one
    only matters while it could still be presented)."""
    failures = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - FAILURES_FORGOTTEN_AFTER,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
    )
    tokens = session.execute(delete(RefreshToken).where(RefreshToken.expires_at < now))
    return Pruned(
        sign_in_failures=getattr(failures, "rowcount", 0) or 0,
        refresh_tokens=getattr(tokens, "rowcount", 0) or 0,
    )
