"""Secrets: password and token hashing, the JWT signing key, auth tokens.

Nothing secret is ever stored or logged in clear:
- passwords: argon2id over the SHA-1 hex digest of the password. emnify clients send that
  digest (the authentication spec requires SHA-1 hashed passwords), so hashing the digest lets
  both them and plain-password callers log in; the digest is treated as the secret.
- application and refresh tokens: 256 random bits, stored as SHA-256 (a fast hash is enough
  for high-entropy secrets and keeps the per-request lookup one indexed equality).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from linkplane.errors import InvalidInput, Unauthorized

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "linkplane"
SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32
_WEAK = {"secret", "changeme", "change-me", "password", "linkplane", "jwt_secret", "test"}
_SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")
# Default argon2-cffi parameters (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not reveal usernames."""
    return _hasher.hash("linkplane-dummy-password")


def check_secret_strength(value: str) -> str:
    """Refuse signing keys an attacker could guess (short, well-known, or one repeated char)."""
    if len(value) < MIN_SECRET_LENGTH:
        raise ValueError(f"jwt_secret must be at least {MIN_SECRET_LENGTH} characters")
    if value.lower() in _WEAK or any(w * 2 in value.lower() for w in _WEAK):
        raise ValueError("jwt_secret is a well-known placeholder; use random bytes")
    if len(set(value)) < 8:
        raise ValueError("jwt_secret has too little variety to be random")
    return value


def _read_or_create_secret(path: Path) -> str:
    """Create the key file once (mode 0600, atomically) or read the existing one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return check_secret_strength(path.read_text().strip())


@lru_cache(maxsize=8)
def _cached_key(configured: str, data_dir: str) -> str:
    return configured or _read_or_create_secret(Path(data_dir) / SECRET_FILE)


def signing_key(*, jwt_secret: str, data_dir: Path) -> str:
    """The HS256 key: the configured one, else the one persisted in the data directory."""
    return _cached_key(jwt_secret, str(data_dir))


# --- passwords -----------------------------------------------------------------------------


def _digest(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest()  # noqa: S324 - emnify wire format


#: Passwords every guessing list starts with; refused whatever their case.
COMMON_PASSWORDS = frozenset(
    {
        "password", "password1", "password12", "password123", "passw0rd", "p@ssw0rd",
        "12345678", "123456789", "1234567890", "87654321", "12341234", "11223344",
        "qwertyui", "qwerty12", "qwerty123", "qwertyuiop", "asdfghjk", "azertyui",
        "abcdefgh", "abcd1234", "abc12345", "iloveyou", "letmein1", "welcome1", "sunshine",
        "football", "baseball", "princess", "trustno1", "superman", "starwars", "whatever",
        "changeme", "admin123", "administrator", "linkplane", "emnify123", "secret123",
    }
)  # fmt: skip


def check_password(password: str, username: str | None = None) -> None:
    """Refuse passwords a guesser tries first, saying why (issue 13: ``password``,
    ``12345678``, eight spaces and the username itself were accepted)."""
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password")
    if len(password) > 1024:
        raise InvalidInput("password must have at most 1024 characters", field="password")
    lowered = password.strip().lower()
    if len(set(password)) == 1 or not lowered:
        raise InvalidInput(
            "password is one character repeated: use a passphrase of several words",
            field="password",
        )
    if lowered in COMMON_PASSWORDS:
        raise InvalidInput(
            "password is on the list of the most common passwords: choose another",
            field="password",
        )
    if username and lowered in {username.lower(), username.lower().partition("@")[0]}:
        raise InvalidInput("password must not be the username", field="password")


def hash_password(password: str, username: str | None = None) -> str:
    check_password(password, username)
    return _hasher.hash(_digest(password))


def _verify(stored: str, candidate: str) -> bool:
    try:
        return _hasher.verify(stored, candidate)
    except (VerificationError, InvalidHashError):
        return False


def verify_password(stored: str | None, supplied: str) -> bool:
    """True if ``supplied`` is the password or (as emnify clients send it) its SHA-1 hex."""
    if stored is None:
        _verify(_dummy_hash(), supplied)
        return False
    if _SHA1_HEX.match(supplied) and _verify(stored, supplied.lower()):
        return True
    return _verify(stored, _digest(supplied))


def burn_password_check() -> None:
    """Spend the time of one verification (unknown user), against username probing."""
    _verify(_dummy_hash(), "x")


# --- opaque tokens -------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


# --- auth tokens (JWT) ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuthClaims:
    org_id: int
    role: str
    user_id: int | None
    app_token_id: int | None
    #: The server-side session (its refresh token's row) a user's sign-in opened; checked on
    #: every request, so sign-out and password changes end it at once. None only for tokens
    #: minted locally by holders of the signing key (tests, ``linkplane demo``).
    session_id: int | None = None


def mint_auth_token(*, key: str, claims: AuthClaims, now: datetime, ttl_seconds: int) -> str:
    subject = f"user:{claims.user_id}" if claims.user_id else f"app_token:{claims.app_token_id}"
    payload: dict[str, Any] = {
        "iss": JWT_ISSUER,
        "sub": subject,
        "org_id": claims.org_id,
        "role": claims.role,
        "user_id": claims.user_id,
        "app_token_id": claims.app_token_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": secrets.token_hex(8),
    }
    if claims.session_id is not None:
        payload["sid"] = claims.session_id
    return jwt.encode(payload, key, algorithm=JWT_ALGORITHM)


def decode_auth_token(*, key: str, token: str) -> AuthClaims:
    """Verify signature, issuer and expiry; any failure is the same 401 (no oracle)."""
    try:
        data = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "iss", "sub"]},
        )
        claims = AuthClaims(
            org_id=int(data["org_id"]),
            role=str(data["role"]),
            user_id=int(data["user_id"]) if data.get("user_id") is not None else None,
            app_token_id=(
                int(data["app_token_id"]) if data.get("app_token_id") is not None else None
            ),
            session_id=int(data["sid"]) if data.get("sid") is not None else None,
        )
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("invalid or expired auth_token: authenticate again") from exc
    if (claims.user_id is None) == (claims.app_token_id is None):
        raise Unauthorized("invalid or expired auth_token: authenticate again")
    return claims
