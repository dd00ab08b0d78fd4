"""HTTP routes of API callbacks and API secrets (emnify's integrations; thin)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from linkplane.api.deps import PrincipalDep, SessionDep, SettingsDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import no_content, set_location
from linkplane.callbacks import service, urls
from linkplane.callbacks.models import ApiCallback, ApiSecret
from linkplane.callbacks.schemas import (
    CallbackIn,
    CallbackRead,
    SecretCreated,
    SecretIn,
    SecretRead,
)

router = APIRouter(prefix="/api/v1", tags=["callbacks"])


def _callback(cb: ApiCallback) -> CallbackRead:
    return CallbackRead(id=cb.id, url=cb.url, purpose=cb.purpose)


def _secret(secret: ApiSecret) -> SecretRead:
    return SecretRead(id=secret.id, organisation_id=str(secret.org_id), purpose=secret.purpose)


@router.get("/api_callback", response_model_exclude_none=True)
def list_callbacks(session: SessionDep, principal: PrincipalDep) -> list[CallbackRead]:
    return [
        _callback(cb) for cb in service.list_callbacks(session=session, org_id=principal.org_id)
    ]


@router.post("/api_callback", status_code=201, response_model_exclude_none=True)
def create_callback(
    body: CallbackIn,
    session: SessionDep,
    principal: WriterDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> CallbackRead:
    """The URL must be http(s) to a public address (see docs/api-compat.md)."""
    allowed = urls.parse_allowed(settings.callback_allowed_cidrs)
    cb = service.create_callback(
        session=session, org_id=principal.org_id, data=body, allowed=allowed, principal=principal
    )
    set_location(response, request, f"/api/v1/api_callback/{cb.id}")
    return _callback(cb)


@router.get("/api_callback/{api_callback_id}", response_model_exclude_none=True)
def get_callback(
    api_callback_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> CallbackRead:
    return _callback(
        service.get_callback(session=session, org_id=principal.org_id, callback_id=api_callback_id)
    )


@router.delete("/api_callback/{api_callback_id}", status_code=204)
def delete_callback(api_callback_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.delete_callback(
        session=session, org_id=principal.org_id, callback_id=api_callback_id, principal=principal
    )
    return no_content()


@router.get("/api_secret", response_model_exclude_none=True)
def list_secrets(session: SessionDep, principal: PrincipalDep) -> list[SecretRead]:
    """Never the secret itself."""
    return [_secret(s) for s in service.list_secrets(session=session, org_id=principal.org_id)]


@router.post("/api_secret", status_code=201, response_model_exclude_none=True)
def create_secret(
    body: SecretIn, session: SessionDep, principal: WriterDep, request: Request, response: Response
) -> SecretCreated:
    """The answer shows the secret once (generated when the body gives none)."""
    secret = service.create_secret(
        session=session, org_id=principal.org_id, data=body, principal=principal
    )
    set_location(response, request, f"/api/v1/api_secret/{secret.id}")
    return SecretCreated(**_secret(secret).model_dump(), secret=secret.secret)


@router.get("/api_secret/{api_secret_id}", response_model_exclude_none=True)
def get_secret(api_secret_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SecretRead:
    return _secret(
        service.get_secret(session=session, org_id=principal.org_id, secret_id=api_secret_id)
    )


@router.delete("/api_secret/{api_secret_id}", status_code=204)
def delete_secret(api_secret_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.delete_secret(
        session=session, org_id=principal.org_id, secret_id=api_secret_id, principal=principal
    )
    return no_content()
