"""Connected devices: the table, a device's page, enable/disable and SIM activate/suspend.

Each handler parses the request, calls the devices/SIMs services the API calls, and renders;
which SIM buttons appear comes from the SIM lifecycle table, not from rules written here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from linkplane.api.deps import SessionDep
from linkplane.api.params import CodeForm, IdPath
from linkplane.devices import service as devices
from linkplane.devices.models import SETTABLE_ENDPOINT_STATUSES, EndpointStatus
from linkplane.devices.schemas import EndpointUpdate, StatusIn
from linkplane.errors import InvalidInput
from linkplane.ids import ascii_digits
from linkplane.portal import usage, views
from linkplane.portal.deps import CsrfChecked, PortalPrincipal, PortalWriter
from linkplane.quotas import service as quotas
from linkplane.quotas.api import render as render_quota
from linkplane.quotas.models import QuotaKind
from linkplane.quotas.schemas import QuotaRead
from linkplane.sims import service as sims
from linkplane.sims.models import SIM_TRANSITIONS, SimStatus
from linkplane.sms import service as sms
from linkplane.sms.render import render as render_sms

router = APIRouter(include_in_schema=False)

STATUS_CHOICES = sorted(SETTABLE_ENDPOINT_STATUSES)
#: The SIM actions a device page offers, by the status they lead to.
SIM_ACTIONS = {SimStatus.ACTIVATED: "Activate SIM", SimStatus.SUSPENDED: "Suspend SIM"}
QUOTA_LABELS = ((QuotaKind.DATA, "Data quota", "MB"), (QuotaKind.SMS, "SMS quota", "SMS"))


def _query(name: str, status: int | None) -> str | None:
    """The emnify ``q`` filter the API's list takes; commas would split it, so drop them."""
    parts = [f"name:{name.replace(',', ' ').strip()}"] if name.strip() else []
    if status is not None:
        parts.append(f"status:{status}")
    return ",".join(parts) or None


def _page_of_devices(
    session: Session, org_id: int, q: str | None, page: int, size: int
) -> tuple[list[devices.EndpointView], int]:
    return devices.list_endpoints(
        session=session, org_id=org_id, offset=(page - 1) * size, limit=size, q=q
    )


@router.get("/devices", response_class=HTMLResponse)
def device_table(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    name: str = "",
    status: Annotated[str, Query()] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: int | None = None,
) -> HTMLResponse:
    size = views.clamp_per_page(per_page)
    q = _query(name, int(status) if ascii_digits(status) else None)
    error: str | None = None
    try:
        rows, total = _page_of_devices(session, principal.org_id, q, page, size)
        if not rows and total:  # past the end (rows went away, or a stale link): last page
            page = views.Pager(page, size, total, {}).pages
            rows, total = _page_of_devices(session, principal.org_id, q, page, size)
    except InvalidInput as exc:
        rows, total, error = [], 0, exc.message
    ids = [row.endpoint.id for row in rows]
    pager = views.Pager(page, size, total, {"name": name, "status": status})
    return views.render(
        request, "devices.html", principal, rows=rows, pager=pager, name=name, status=status,
        statuses=STATUS_CHOICES, per_page_choices=views.PER_PAGE_CHOICES, error=error,
        EndpointStatus=EndpointStatus,
        usage=usage.monthly_usage(session=session, org_id=principal.org_id, endpoint_ids=ids),
    )  # fmt: skip


@router.get("/devices/{endpoint_id}", response_class=HTMLResponse)
def device_page(
    request: Request, endpoint_id: IdPath, principal: PortalPrincipal, session: SessionDep
) -> HTMLResponse:
    view = devices.get(session=session, org_id=principal.org_id, endpoint_id=endpoint_id)
    sim_actions = []
    if view.sim is not None:
        allowed = SIM_TRANSITIONS[SimStatus(view.sim.status)]
        sim_actions = [(int(s), label) for s, label in SIM_ACTIONS.items() if s in allowed]
    monthly = usage.monthly_usage(
        session=session, org_id=principal.org_id, endpoint_ids=[endpoint_id]
    ).get(endpoint_id)
    messages, _, _ = sms.list_for_endpoint(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, offset=0, limit=5
    )
    return views.render(
        request, "device.html", principal, view=view, sim_actions=sim_actions,
        EndpointStatus=EndpointStatus, SimStatus=SimStatus, monthly=monthly,
        quotas=_quotas(session, endpoint_id), messages=[render_sms(m, "") for m in messages],
    )  # fmt: skip


def _quotas(session: Session, endpoint_id: int) -> list[tuple[str, str, QuotaRead]]:
    """The device's quotas as the API shows them: (label, unit, quota)."""
    found = []
    for kind, label, unit in QUOTA_LABELS:
        quota = quotas.find(session=session, endpoint_id=endpoint_id, kind=kind)
        if quota is not None:
            found.append((label, unit, render_quota(quota)))
    return found


@router.post("/devices/{endpoint_id}/status", dependencies=[CsrfChecked])
def set_device_status(
    endpoint_id: IdPath,
    principal: PortalWriter,
    session: SessionDep,
    status: CodeForm,
) -> Response:
    data = EndpointUpdate(status=StatusIn(id=status))
    devices.update(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id, data=data,
        principal=principal,
    )  # fmt: skip
    return RedirectResponse(f"/devices/{endpoint_id}", status_code=303)


@router.post("/devices/{endpoint_id}/sim-status", dependencies=[CsrfChecked])
def set_sim_status(
    endpoint_id: IdPath,
    principal: PortalWriter,
    session: SessionDep,
    status: CodeForm,
) -> Response:
    view = devices.get(session=session, org_id=principal.org_id, endpoint_id=endpoint_id)
    if view.sim is None:
        raise InvalidInput("this device has no SIM", field="sim")
    sims.update(
        session=session, org_id=principal.org_id, sim_id=view.sim.id, status=status,
        principal=principal,
    )  # fmt: skip
    return RedirectResponse(f"/devices/{endpoint_id}", status_code=303)
