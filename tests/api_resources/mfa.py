"""MFA routes in the isolation harness."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linkplane.db import transaction, utcnow
from linkplane.mfa import vault
from linkplane.mfa.models import KeyStatus, KeyType, MfaKey, TrustedDevice
from linkplane.tenancy import security, service
from linkplane.tenancy.principal import Role
from tests.api_harness import Harness, lookup, own, resource

lookup("/api/v1/user/mfa/status", "/api/v1/user/mfa/type")
own(
    "/api/v1/user/mfa",
    "/api/v1/user/mfa/{key_id}",
    bodies={
        "POST /api/v1/user/mfa": {"type": {"id": 1}, "password": "not-the-password"},
        "PATCH /api/v1/user/mfa/{key_id}": {"status": {"id": 1}, "code": "000000"},
    },
)


@resource(
    "/api/v1/user/{user_id}/mfa/trusted_device",
    "/api/v1/user/{user_id}/mfa/trusted_device/{device_id}",
    "/api/v1/user/{user_id}/mfa/{key_id}",
)
def mfa_user(h: Harness) -> dict[str, Any]:
    """A user of the owner with an active key and one trusted device."""
    key = security.signing_key(jwt_secret=h.settings.jwt_secret, data_dir=h.settings.data_dir)
    now = utcnow()
    with transaction(h.factory) as session:
        user = service.create_user(session=session, org_id=h.owner.id, username=h.email(),
                                   name=h.unique("mfa"), role=Role.OBSERVER,
                                   password="sample-password-1", principal=None)  # fmt: skip
        mfa_key = MfaKey(user_id=user.id, type=KeyType.TOTP, status=KeyStatus.ACTIVE,
                         secret_enc=vault.seal(vault.new_secret(), signing_key=key),
                         last_step=0, created_at=now)  # fmt: skip
        device = TrustedDevice(user_id=user.id, fingerprint_hash=security.token_hash(h.unique()),
                               name=h.unique("device"), created_at=now,
                               expires_at=now + timedelta(days=1))  # fmt: skip
        session.add_all([mfa_key, device])
        session.flush()
        return {"user_id": user.id, "key_id": mfa_key.id, "device_id": device.id}
