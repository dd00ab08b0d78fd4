"""TOTP secrets at rest and the code check.

Secrets are encrypted with AES-256-GCM under a key derived from the installation's JWT
signing key (HMAC-SHA256 with a purpose label), so a copy of the database alone does not
reveal them. Rotating ``jwt_secret`` therefore also invalidates every MFA key: users enrol
again (documented in docs/api-compat.md).

Codes: RFC 6238, 6 digits, 30-second steps, one step of clock drift either way. A code is
accepted only for a step newer than the last accepted one, so a code seen once (shoulder,
proxy log) cannot be used again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from linkplane.errors import InvalidInput

STEP_SECONDS = 30
DIGITS = 6
#: Accepted clock drift, in steps, either way (RFC 6238 recommends at most one).
DRIFT_STEPS = 1
_PURPOSE = b"linkplane-mfa-secret-v1"


def _aead(signing_key: str) -> AESGCM:
    return AESGCM(hmac.new(signing_key.encode(), _PURPOSE, hashlib.sha256).digest())


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def seal(secret: str, *, signing_key: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead(signing_key).encrypt(nonce, secret.encode(), _PURPOSE)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, *, signing_key: str) -> str:
    raw = base64.urlsafe_b64decode(stored.encode())
    try:
        return _aead(signing_key).decrypt(raw[:12], raw[12:], _PURPOSE).decode()
    except InvalidTag:
        # The signing key changed since enrolment: the key cannot be used any more.
        raise InvalidInput(
            "this MFA key can no longer be read (the installation's signing key changed); "
            "an administrator must delete it and the user enrol again",
            field="code",
        ) from None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, *, now: float, after_step: int) -> int | None:
    """The time step ``code`` belongs to (within the drift), if newer than ``after_step``."""
    clean = code.strip().replace(" ", "")
    if len(clean) != DIGITS or not clean.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if step > after_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), clean):
            return step
    return None


def code_at(secret: str, now: float) -> str:
    """The code an authenticator shows at ``now`` (the CLI and tests use it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(now)
