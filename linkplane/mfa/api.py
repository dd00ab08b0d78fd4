"""HTTP routes of MFA: create, activate and delete TOTP keys, trusted devices, lookups.

Thin: parse, call :mod:`linkplane.mfa.service`, render. The sign-in's second step is part of
``POST /api/v1/authenticate`` (linkplane.tenancy.api).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from linkplane.api.deps import PrincipalDep, SessionDep, SettingsDep
from linkplane.api.responses import no_content
from linkplane.mfa import service
from linkplane.mfa.models import KeyStatus, KeyType, TrustedDevice
from linkplane.mfa.schemas import (
    STATUS_NAMES,
    TYPE_NAMES,
    IdDescription,
    KeyActivate,
    KeyCreate,
    KeyCreated,
    TrustedDeviceRead,
)

router = APIRouter(prefix="/api/v1/user", tags=["authentication"])
UserRef = Annotated[str, Path(min_length=1, max_length=254, description="id, username or `my`")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/mfa/status", response_model=list[IdDescription])
def list_statuses(_principal: PrincipalDep) -> list[IdDescription]:
    return [IdDescription(id=s.value, description=n) for s, n in STATUS_NAMES.items()]


@router.get("/mfa/type", response_model=list[IdDescription])
def list_types(_principal: PrincipalDep) -> list[IdDescription]:
    return [IdDescription(id=t.value, description=n) for t, n in TYPE_NAMES.items()]


@router.post("/mfa", response_model=KeyCreated)
def create_key(
    body: KeyCreate, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> KeyCreated:
    """A pending TOTP key for the caller; activate it with a code (emnify answers 200)."""
    new = service.create_key(
        session=session,
        settings=settings,
        principal=principal,
        type_id=body.type.id,
        password=body.password,
    )
    pending = KeyStatus.ACTIVATION_PENDING
    return KeyCreated(
        id=new.key.id,
        status=IdDescription(id=pending, description=STATUS_NAMES[pending]),
        type=IdDescription(id=KeyType.TOTP, description=TYPE_NAMES[KeyType.TOTP]),
        secret_key=new.secret,
        otpauth=new.otpauth,
        creation_date=new.key.created_at,
    )


@router.patch("/mfa/{key_id}", status_code=204, response_class=Response)
def activate_key(
    key_id: Id, body: KeyActivate, principal: PrincipalDep, session: SessionDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    service.activate_key(
        session=session,
        settings=settings,
        principal=principal,
        key_id=key_id,
        status_id=body.status.id,
        code=body.code,
    )
    return no_content()


def _device_read(device: TrustedDevice) -> TrustedDeviceRead:
    return TrustedDeviceRead(
        id=device.id,
        name=device.name,
        operating_system=device.operating_system,
        browser=device.browser,
        activation_date=device.created_at,
        expiry_date=device.expires_at,
    )


@router.get(
    "/{user_id}/mfa/trusted_device",
    response_model=list[TrustedDeviceRead],
    response_model_exclude_none=True,
)
def list_trusted_devices(
    user_id: UserRef, principal: PrincipalDep, session: SessionDep
) -> list[TrustedDeviceRead]:
    devices = service.list_devices(
        session=session, principal=principal, user_ref=principal.user_ref(user_id)
    )
    return [_device_read(d) for d in devices]


@router.delete(
    "/{user_id}/mfa/trusted_device/{device_id}", status_code=204, response_class=Response
)
def delete_trusted_device(
    user_id: UserRef, device_id: Id, principal: PrincipalDep, session: SessionDep
) -> Response:
    service.delete_device(
        session=session,
        principal=principal,
        user_ref=principal.user_ref(user_id),
        device_id=device_id,
    )
    return no_content()


@router.delete("/{user_id}/mfa/{key_id}", status_code=204, response_class=Response)
def delete_key(
    user_id: UserRef, key_id: Id, principal: PrincipalDep, session: SessionDep
) -> Response:
    service.delete_key(
        session=session, principal=principal, user_ref=principal.user_ref(user_id),
        key_id=key_id,
    )  # fmt: skip
    return no_content()
