"""HTTP routes of an endpoint's SMS (thin: parse, call the service, render)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from linkplane.api.deps import PageDep, PrincipalDep, SessionDep, SettingsDep, WriterDep
from linkplane.api.pagination import set_page_headers
from linkplane.api.params import IdPath
from linkplane.api.responses import set_location
from linkplane.sms import service
from linkplane.sms.render import render
from linkplane.sms.schemas import SmsIn, SmsRead

router = APIRouter(prefix="/api/v1", tags=["sms"])


@router.get("/endpoint/{endpoint_id}/sms", response_model_exclude_none=True)
def list_sms(
    endpoint_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    response: Response,
) -> list[SmsRead]:
    """SMS sent to and received from the endpoint, newest first."""
    rows, total, name = service.list_for_endpoint(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        offset=page.offset,
        limit=page.per_page,
    )
    set_page_headers(response, page, total)
    return [render(sms, name) for sms in rows]


@router.post("/endpoint/{endpoint_id}/sms", status_code=201, response_model_exclude_none=True)
def send_sms(
    endpoint_id: IdPath,
    body: SmsIn,
    session: SessionDep,
    principal: WriterDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> SmsRead:
    """Queue an SMS to the device; it is delivered when the device receives (see
    ``linkplane sms simulate``), held while its SMS quota or limits forbid it."""
    sms = service.submit(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        data=body,
        validity=timedelta(seconds=settings.sms_validity_seconds),
        principal=principal,
    )
    set_location(response, request, f"/api/v1/endpoint/{endpoint_id}/sms/{sms.id}")
    _, name = service.get(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, sms_id=sms.id
    )
    return render(sms, name)


@router.get("/endpoint/{endpoint_id}/sms/{sms_id}", response_model_exclude_none=True)
def get_sms(
    endpoint_id: IdPath, sms_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> SmsRead:
    sms, name = service.get(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, sms_id=sms_id
    )
    return render(sms, name)


@router.delete("/endpoint/{endpoint_id}/sms/{sms_id}", response_model_exclude_none=True)
def cancel_sms(
    endpoint_id: IdPath, sms_id: IdPath, session: SessionDep, principal: WriterDep
) -> SmsRead:
    """200 with the canceled SMS (the reference declares a 200 with a body)."""
    sms, name = service.cancel(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        sms_id=sms_id,
        principal=principal,
    )
    return render(sms, name)
