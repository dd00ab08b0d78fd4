"""Multi-factor authentication: TOTP keys, trusted devices and the sign-in's second step.

The sign-in hooks in with two calls: :func:`second_factor` (given to
``tenancy.service.authenticate_password``) opens a challenge when a user with an active key
logs in from a device they do not trust, and :func:`complete` checks the code sent with its
``mfa_token`` and issues the tokens. Every function takes keyword-only arguments and raises
:mod:`linkplane.errors` exceptions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.db import transaction, utcnow
from linkplane.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from linkplane.events.service import record
from linkplane.mfa import vault
from linkplane.mfa.models import Challenge, KeyStatus, KeyType, MfaKey, TrustedDevice
from linkplane.settings import Settings
from linkplane.tenancy import security
from linkplane.tenancy import service as tenancy
from linkplane.tenancy.models import User, UserStatus
from linkplane.tenancy.principal import Principal

ISSUER = "linkplane"
#: Consecutive wrong sign-in codes (over all mfa_tokens) that lock the key for
#: LOCK_SECONDS, as three wrong passwords lock the account (emnify: 5 minutes).
MAX_CODE_FAILURES = 5
LOCK_SECONDS = 300
_LOCKED = "TooManyRequests: MFA locked for 5 minutes after 5 wrong codes"
#: Trusted-device fingerprints are bearer secrets of the device: too short ones are guessable.
MIN_FINGERPRINT = 16
_BAD_MFA_TOKEN = "invalid or expired mfa_token: send username and password again"  # noqa: S105
_BAD_CODE = "invalid code: send the current 6-digit code of your authenticator app"


@dataclass(frozen=True)
class DeviceInfo:
    """What a client tells about the device it wants trusted (emnify ``trusted_device``)."""

    fingerprint: str
    name: str | None = None
    operating_system: str | None = None
    browser: str | None = None


@dataclass(frozen=True)
class NewKey:
    """A created key with its secret, shown this once."""

    key: MfaKey
    secret: str
    otpauth: str


def _signing_key(settings: Settings) -> str:
    return security.signing_key(jwt_secret=settings.jwt_secret, data_dir=settings.data_dir)


def _own_user(session: Session, principal: Principal) -> User:
    if principal.user_id is None:
        raise Forbidden("MFA keys belong to users: authenticate with user credentials")
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("user not found", field="user_id")
    return user


def _target_user(session: Session, principal: Principal, user_ref: str | int) -> User:
    """A user of the caller's organisation; changing someone else's MFA needs an admin."""
    return tenancy.get_user(session=session, org_id=principal.org_id, user_ref=user_ref)


def _require_self_or_admin(principal: Principal, user: User) -> None:
    if user.id != principal.user_id and not principal.can_write:
        raise Forbidden("only administrators may change the MFA of other users")


def active_key(session: Session, user_id: int) -> MfaKey | None:
    return session.scalar(
        select(MfaKey).where(MfaKey.user_id == user_id, MfaKey.status == KeyStatus.ACTIVE)
    )


# --- keys ----------------------------------------------------------------------------------


def create_key(
    *, session: Session, settings: Settings, principal: Principal, type_id: int, password: str
) -> NewKey:
    """A pending TOTP key for the caller (the password is asked again: a stolen session alone
    must not be able to bind an attacker's authenticator). A pending key is replaced."""
    user = _own_user(session, principal)
    if type_id != KeyType.TOTP:
        raise InvalidInput(f"unknown MFA key type {type_id}; allowed: 1 (TOTP)", field="type.id")
    if not security.verify_password(user.password_hash, password):
        raise InvalidInput("password is not correct", field="password")
    if active_key(session, user.id) is not None:
        raise Conflict("an MFA key is already active: delete it first", field="type.id")
    session.execute(delete(MfaKey).where(MfaKey.user_id == user.id))
    secret = vault.new_secret()
    key = MfaKey(
        user_id=user.id,
        type=KeyType.TOTP,
        status=KeyStatus.ACTIVATION_PENDING,
        secret_enc=vault.seal(secret, signing_key=_signing_key(settings)),
        last_step=0,
        created_at=utcnow(),
        failed_codes=0,
    )
    session.add(key)
    session.flush()
    _event(session, principal, user, "MFA key created", f"MFA key {key.id} created")
    uri = vault.provisioning_uri(secret, account=user.username, issuer=ISSUER)
    return NewKey(key=key, secret=secret, otpauth=uri)


def activate_key(
    *,
    session: Session,
    settings: Settings,
    principal: Principal,
    key_id: int,
    status_id: int,
    code: str,
    now: float | None = None,
) -> MfaKey:
    """Activate the caller's pending key with a current code: from now on logins owe one."""
    user = _own_user(session, principal)
    key = session.get(MfaKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound(f"MFA key {key_id} not found", field="key_id")
    if status_id != KeyStatus.ACTIVE:
        raise InvalidInput("status.id must be 1 (Active)", field="status.id")
    if key.status == KeyStatus.ACTIVE:
        raise Conflict(f"MFA key {key_id} is already active", field="status.id")
    _use_code(key, settings, code, now)
    key.status, key.activated_at = KeyStatus.ACTIVE, utcnow()
    _event(session, principal, user, "MFA key activated", f"MFA key {key.id} activated")
    return key


def _use_code(key: MfaKey, settings: Settings, code: str, now: float | None) -> None:
    secret = vault.unseal(key.secret_enc, signing_key=_signing_key(settings))
    step = vault.matching_step(
        secret, code, now=time.time() if now is None else now, after_step=key.last_step
    )
    if step is None:
        raise InvalidInput(_BAD_CODE, field="code")
    key.last_step = step


def delete_key(*, session: Session, principal: Principal, user_ref: str | int, key_id: int) -> None:
    """Remove a key (an administrator does this for a user who lost their authenticator);
    the user's trusted devices go with it, so a later key starts with none."""
    user = _target_user(session, principal, user_ref)
    key = session.get(MfaKey, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound(f"MFA key {key_id} not found", field="key_id")
    _require_self_or_admin(principal, user)
    session.delete(key)
    session.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))
    _event(session, principal, user, "MFA key deleted", f"MFA key {key_id} deleted")


# --- trusted devices -----------------------------------------------------------------------


def list_devices(
    *, session: Session, principal: Principal, user_ref: str | int
) -> list[TrustedDevice]:
    user = _target_user(session, principal, user_ref)
    rows = session.scalars(
        select(TrustedDevice)
        .where(TrustedDevice.user_id == user.id, TrustedDevice.expires_at > utcnow())
        .order_by(TrustedDevice.id)
    )
    return list(rows)


def delete_device(
    *, session: Session, principal: Principal, user_ref: str | int, device_id: int
) -> None:
    user = _target_user(session, principal, user_ref)
    device = session.get(TrustedDevice, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound(f"trusted device {device_id} not found", field="device_id")
    _require_self_or_admin(principal, user)
    session.delete(device)
    _event(
        session, principal, user, "Trusted device deleted", f"Trusted device {device_id} deleted"
    )


def _trusted(session: Session, user_id: int, fingerprint: str, now: datetime) -> bool:
    found = session.scalar(
        select(TrustedDevice.id).where(
            TrustedDevice.user_id == user_id,
            TrustedDevice.fingerprint_hash == security.token_hash(fingerprint),
            TrustedDevice.expires_at > now,
        )
    )
    return found is not None


def _trust(
    session: Session, settings: Settings, user: User, info: DeviceInfo, now: datetime
) -> None:
    session.execute(
        delete(TrustedDevice).where(
            TrustedDevice.user_id == user.id,
            TrustedDevice.fingerprint_hash == security.token_hash(info.fingerprint),
        )
    )
    device = TrustedDevice(
        user_id=user.id,
        fingerprint_hash=security.token_hash(info.fingerprint),
        name=info.name,
        operating_system=info.operating_system,
        browser=info.browser,
        created_at=now,
        expires_at=now + timedelta(days=settings.mfa_trusted_device_days),
    )
    session.add(device)
    session.flush()
    _event(session, None, user, "Trusted device added", f"Trusted device {device.id} added")


def check_device(info: DeviceInfo | None) -> None:
    """Refuse a trusted device whose fingerprint could be guessed (before any login work)."""
    if info is not None and len(info.fingerprint) < MIN_FINGERPRINT:
        raise InvalidInput(
            f"trusted_device.fingerprint must have at least {MIN_FINGERPRINT} characters "
            "(a random value the device keeps)",
            field="trusted_device.fingerprint",
        )


# --- the sign-in's second step -------------------------------------------------------------


def second_factor(*, settings: Settings, fingerprint: str | None) -> tenancy.SecondFactor:
    """The hook for ``authenticate_password``: an ``mfa_token`` when the user has an active
    key and ``fingerprint`` is not one of their trusted devices."""

    def owed(session: Session, user: User) -> str | None:
        now = utcnow()
        if active_key(session, user.id) is None:
            return None
        if fingerprint and _trusted(session, user.id, fingerprint, now):
            return None
        token = security.new_token()
        session.add(
            Challenge(
                user_id=user.id,
                token_hash=security.token_hash(token),
                expires_at=now + timedelta(seconds=settings.mfa_token_ttl_seconds),
            )
        )
        return token

    return owed


def complete(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    mfa_token: str,
    code: str,
    device: DeviceInfo | None = None,
    now: float | None = None,
) -> tenancy.Tokens:
    """Tokens for a valid ``mfa_token`` and code; the token is spent on success. Wrong codes
    are counted on the key in a committed transaction; the fifth in a row locks it for five
    minutes and spends the token."""
    check_device(device)
    moment = utcnow()
    with transaction(factory) as session:
        challenge = session.scalar(
            select(Challenge).where(Challenge.token_hash == security.token_hash(mfa_token))
        )
        user = session.get(User, challenge.user_id) if challenge else None
        key = active_key(session, user.id) if user else None
        live = user is not None and user.status == UserStatus.ACTIVE
        if challenge is None or challenge.expires_at <= moment or user is None or key is None:
            failure = _BAD_MFA_TOKEN
        elif not live:
            failure = "user is not active"
        elif key.locked_until is not None and key.locked_until > moment:
            session.delete(challenge)
            failure = _LOCKED
        else:
            try:
                _use_code(key, settings, code, now)
            except InvalidInput:
                failure = _count_failure(session, challenge, key, user, moment)
            else:
                key.failed_codes, key.locked_until = 0, None
                session.delete(challenge)
                if device is not None:
                    _trust(session, settings, user, device, moment)
                return tenancy.issue_user_tokens(
                    session=session, settings=settings, user=user, now=moment
                )
    raise Unauthorized(failure)


def _count_failure(
    session: Session, challenge: Challenge, key: MfaKey, user: User, now: datetime
) -> str:
    key.failed_codes += 1
    _event(session, None, user, "MFA authentication failed",
           f"Wrong MFA code for user {user.username}", severity=1)  # fmt: skip
    if key.failed_codes >= MAX_CODE_FAILURES:
        key.failed_codes, key.locked_until = 0, now + timedelta(seconds=LOCK_SECONDS)
        session.delete(challenge)
        return _LOCKED
    return _BAD_CODE


def _event(
    session: Session, principal: Principal | None, user: User, event_type: str, text: str,
    severity: int = 0,
) -> None:  # fmt: skip
    record(
        session=session,
        org_id=user.org_id,
        event_type=event_type,
        principal=principal,
        actor="system" if principal is None else None,
        description=f"{text} (user {user.username})",
        entity_type="user",
        entity_id=user.id,
        severity=severity,
    )


def reset(*, session: Session, username: str) -> int:
    """Remove every MFA key and trusted device of a user (the provider's recovery when the
    only administrator lost their authenticator); the number of keys removed."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"user {username} not found", field="username")
    keys = list(session.scalars(select(MfaKey).where(MfaKey.user_id == user.id)))
    for key in keys:
        session.delete(key)
    session.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user.id))
    session.execute(delete(Challenge).where(Challenge.user_id == user.id))
    if keys:
        _event(session, None, user, "MFA key deleted", "MFA reset by the provider (CLI)")
    return len(keys)
