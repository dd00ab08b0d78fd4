"""Cloud Connect: the breakout list, the four-step wizard, a breakout's live page, retry, delete.

Writes are the API's own :mod:`linkplane.attachments.commands` (commit, then start or signal
the workflow); reads and what a breakout allows now come from the breakout service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from linkplane.api.deps import FactoryDep, SessionDep, SettingsDep, WorkflowsDep
from linkplane.api.params import CodeForm, CodeQuery, IdPath
from linkplane.attachments import commands, cost, crossregion, service
from linkplane.attachments.models import (
    STATUS_DESCRIPTION,
    TRANSITIONS,
    TYPE_DESCRIPTION,
    VPN_TYPES,
    Breakout,
    BreakoutType,
)
from linkplane.attachments.regions import bootstrapped_regions
from linkplane.attachments.schemas import BreakoutTgwCreate, BreakoutVpnCreate
from linkplane.durable.client import WorkflowClient
from linkplane.errors import LinkplaneError
from linkplane.portal import instructions, views, wizard
from linkplane.portal.deps import CsrfChecked, PortalPrincipal, PortalWriter
from linkplane.settings import Settings
from linkplane.tariffs.models import CURRENCIES
from linkplane.tenancy.principal import Principal

router = APIRouter(prefix="/cloud-connect", include_in_schema=False)

STEPS = ("Select type", "Enter details", "Review", "Setup started")
#: Statuses after which nothing changes any more (no way out): the page stops polling.
FINAL = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)


@router.get("", response_class=HTMLResponse)
def breakout_list(
    request: Request, principal: PortalPrincipal, session: SessionDep
) -> HTMLResponse:
    rows, total = service.list_breakouts(session=session, org_id=principal.org_id)
    return views.render(
        request, "breakouts.html", principal, rows=rows, total=total,
        STATUS_DESCRIPTION=STATUS_DESCRIPTION, TYPE_DESCRIPTION=TYPE_DESCRIPTION,
    )  # fmt: skip


# --- the wizard -----------------------------------------------------------------------------
#: What the wizard can create: every type.
WIZARD_TYPES = frozenset({BreakoutType.TGW, BreakoutType.IPSEC_VPN, BreakoutType.VPN_BGP,
                          BreakoutType.VPN_BGP_HA})
WIZARD_VPN_TYPES = WIZARD_TYPES & VPN_TYPES


def _available_types(session: Session) -> dict[int, bool]:
    return {
        int(t): t in WIZARD_TYPES and bool(service.available_regions(session=session, type_id=t))
        for t in TYPE_DESCRIPTION
    }


@router.get("/new", response_class=HTMLResponse)
def wizard_type(request: Request, principal: PortalWriter, session: SessionDep) -> HTMLResponse:
    return views.render(
        request, "wizard_type.html", principal, steps=STEPS, step=0,
        types=TYPE_DESCRIPTION, available=_available_types(session),
    )  # fmt: skip


def _type_name(type_id: int) -> str:
    known = {int(t): d for t, d in TYPE_DESCRIPTION.items()}
    return known.get(type_id, f"type {type_id}")


def _details(
    request: Request, principal: Principal, session: Session, form: wizard.BreakoutForm,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    regions = [r.name for r in bootstrapped_regions(session=session)]
    return views.render(
        request, "wizard_details.html", principal, 422 if errors else 200,
        steps=STEPS, step=1, form=form, errors=errors or {}, regions=regions,
        type_name=_type_name(form.type), region_labels=_region_labels(session, form.type),
    )  # fmt: skip


def _region_labels(session: Session, type_id: int) -> dict[str, str]:
    """Each attachment region with the device breakout regions it serves (available_region's
    pairs), so the region step says where the devices that reach the VPC break out."""
    if type_id not in {int(t) for t in BreakoutType}:
        return {}
    served: dict[str, list[str]] = {}
    for attachment, devices in service.available_pairs(session=session, type_id=type_id):
        served.setdefault(attachment, []).append(devices)
    return {region: f"{region} (devices breaking out in {', '.join(sorted(devices))})"
            for region, devices in served.items()}  # fmt: skip


@router.get("/new/details", response_class=HTMLResponse)
def wizard_details(
    request: Request,
    principal: PortalWriter,
    session: SessionDep,
    type: CodeQuery = BreakoutType.TGW,
) -> HTMLResponse:
    if type in WIZARD_VPN_TYPES:
        return _vpn_details(request, principal, session, wizard.VpnForm(type=type))
    return _details(request, principal, session, wizard.BreakoutForm(type=type))


def _form(
    name: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    aws_account_id: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    type: CodeForm = BreakoutType.TGW,
    vpc_cidr: Annotated[list[str] | None, Form()] = None,
) -> wizard.BreakoutForm:
    return wizard.BreakoutForm.parse(
        name=name, region=region, aws_account_id=aws_account_id, vpc_cidr=vpc_cidr or [],
        description=description, type=type,
    )  # fmt: skip


WizardForm = Annotated[wizard.BreakoutForm, Depends(_form)]


@router.post("/new/details", response_class=HTMLResponse, dependencies=[CsrfChecked])
def wizard_back(
    request: Request, principal: PortalWriter, session: SessionDep, form: WizardForm
) -> HTMLResponse:
    """ "Back" from the review: the details again, as typed."""
    return _details(request, principal, session, form)


@router.post("/new/review", response_class=HTMLResponse, dependencies=[CsrfChecked])
def wizard_review(
    request: Request, principal: PortalWriter, session: SessionDep, settings: SettingsDep,
    factory: FactoryDep, form: WizardForm,
) -> HTMLResponse:  # fmt: skip
    errors = wizard.validate(factory, settings, principal, form)
    if errors:
        return _details(request, principal, session, form, errors)
    return views.render(
        request, "wizard_review.html", principal, steps=STEPS, step=2, form=form,
        type_name=_type_name(form.type), device_cidr=settings.device_cidr,
    )  # fmt: skip


def _start(
    factory: sessionmaker[Session], settings: Settings, principal: Principal,
    workflows: WorkflowClient, data: BreakoutTgwCreate | BreakoutVpnCreate, *,
    put: Callable[[dict[str, str], str | None, str], None],
    back: Callable[[dict[str, str]], Response],
) -> Response:  # fmt: skip
    """Request the reviewed breakout and show its page; refused (someone took the CIDRs or
    the account since the review), back to the details with the error next to its field."""
    try:
        row = commands.request_breakout(factory=factory, settings=settings, principal=principal,
                                        data=data, workflows=workflows)  # fmt: skip
    except LinkplaneError as exc:
        errors: dict[str, str] = {}
        put(errors, exc.field, exc.message)
        return back(errors)
    return RedirectResponse(f"/cloud-connect/{row.id}?started=1", status_code=303)


@router.post("/new/create", dependencies=[CsrfChecked])
def wizard_create(
    request: Request, principal: PortalWriter, session: SessionDep, settings: SettingsDep,
    factory: FactoryDep, form: WizardForm, workflows: WorkflowsDep,
) -> Response:  # fmt: skip
    data = form.request()
    return _start(factory, settings, principal, workflows, data, put=wizard.put_error,
                  back=lambda errors: _details(request, principal, session, form, errors))


# --- the wizard's VPN steps (types 2 and 3: no AWS account, a VPN server instead) -----------
def _vpn_details(
    request: Request, principal: Principal, session: Session, form: wizard.VpnForm,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    regions = [r.name for r in service.available_regions(session=session, type_id=form.type)]
    return views.render(
        request, "wizard_vpn_details.html", principal, 422 if errors else 200,
        steps=STEPS, step=1, form=form, errors=errors or {}, regions=regions,
        type_name=_type_name(form.type), region_labels=_region_labels(session, form.type),
    )  # fmt: skip


def _vpn_form(
    name: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    public_ip: Annotated[str, Form()] = "",
    public_ip_2: Annotated[str, Form()] = "",
    psk: Annotated[str, Form()] = "",
    asn: Annotated[str, Form()] = "",  # as typed: a bad one is shown back with its error
    description: Annotated[str, Form()] = "",
    type: CodeForm = BreakoutType.IPSEC_VPN,
    on_prem_cidr: Annotated[list[str] | None, Form()] = None,
) -> wizard.VpnForm:
    return wizard.VpnForm.parse(
        type=type, name=name, region=region, public_ip=public_ip, psk=psk, asn=asn,
        on_prem_cidr=on_prem_cidr or [], description=description, public_ip_2=public_ip_2,
    )  # fmt: skip


VpnWizardForm = Annotated[wizard.VpnForm, Depends(_vpn_form)]


@router.post("/new/vpn/details", response_class=HTMLResponse, dependencies=[CsrfChecked])
def wizard_vpn_back(
    request: Request, principal: PortalWriter, session: SessionDep, form: VpnWizardForm
) -> HTMLResponse:
    """ "Back" from the review: the VPN details again, as typed."""
    return _vpn_details(request, principal, session, form)


@router.post("/new/vpn/review", response_class=HTMLResponse, dependencies=[CsrfChecked])
def wizard_vpn_review(
    request: Request, principal: PortalWriter, session: SessionDep, settings: SettingsDep,
    factory: FactoryDep, form: VpnWizardForm,
) -> HTMLResponse:  # fmt: skip
    errors = wizard.validate_vpn(factory, settings, principal, form)
    if errors:
        return _vpn_details(request, principal, session, form, errors)
    return views.render(
        request, "wizard_vpn_review.html", principal, steps=STEPS, step=2, form=form,
        type_name=_type_name(form.type), device_cidr=settings.device_cidr,
    )  # fmt: skip


@router.post("/new/vpn/create", dependencies=[CsrfChecked])
def wizard_vpn_create(
    request: Request, principal: PortalWriter, session: SessionDep, settings: SettingsDep,
    factory: FactoryDep, form: VpnWizardForm, workflows: WorkflowsDep,
) -> Response:  # fmt: skip
    data = form.request()
    return _start(factory, settings, principal, workflows, data, put=wizard.put_vpn_error,
                  back=lambda errors: _vpn_details(request, principal, session, form, errors))


# --- one breakout ---------------------------------------------------------------------------
def _live_context(
    session: Session, settings: Settings, principal: Principal, breakout_id: int
) -> dict[str, object]:
    row = service.get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    return {
        "row": row,
        "status_text": STATUS_DESCRIPTION[row.status],
        "events": service.history(session=session, org_id=principal.org_id, breakout_id=row.id),
        "customer_steps": instructions.customer_steps(row, settings.device_cidr),
        "attachment_deadline": service.expiry_of(row),
        "polling": row.status not in FINAL,
        "can_retry": service.retryable(row),
        # A delete already under way is accepted again by the service, but not offered.
        "can_delete": service.deletable(row) and not row.delete_requested,
    }


@router.get("/{breakout_id}", response_class=HTMLResponse)
def breakout_page(
    request: Request, breakout_id: IdPath, principal: PortalPrincipal, session: SessionDep,
    settings: SettingsDep, started: bool = False,
) -> HTMLResponse:  # fmt: skip
    live = _live_context(session, settings, principal, breakout_id)
    row = _row(live)
    spent = cost.breakout_cost(session=session, settings=settings, org_id=principal.org_id,
                               breakout_id=row.id)  # fmt: skip
    price = next((p for p in cost.prices(settings) if p.breakout_type_id == row.type_id), None)
    return views.render(
        request, "breakout.html", principal, steps=STEPS, step=3, started=started,
        type_name=_type_name(row.type_id), cost=spent, price=price, settings=settings,
        currencies=CURRENCIES, device_regions=crossregion.where_devices_break_out(session, row),
        **live,
    )  # fmt: skip


def _row(live: dict[str, object]) -> Breakout:
    row = live["row"]
    assert isinstance(row, Breakout)
    return row


@router.get("/{breakout_id}/live", response_class=HTMLResponse)
def breakout_live(
    request: Request, breakout_id: IdPath, principal: PortalPrincipal, session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:  # fmt: skip
    """The part of the page that changes while the workflow runs (polled by htmx)."""
    live = _live_context(session, settings, principal, breakout_id)
    return views.render(request, "_breakout_live.html", principal, **live)


@router.post("/{breakout_id}/retry", dependencies=[CsrfChecked])
def breakout_retry(
    breakout_id: IdPath, principal: PortalWriter, settings: SettingsDep, factory: FactoryDep,
    workflows: WorkflowsDep,
) -> Response:  # fmt: skip
    row = commands.retry_breakout(factory=factory, settings=settings, principal=principal,
                                  breakout_id=breakout_id, workflows=workflows)  # fmt: skip
    return RedirectResponse(f"/cloud-connect/{row.id}", status_code=303)


@router.get("/{breakout_id}/vpn-configuration")
def breakout_vpn_configuration(
    breakout_id: IdPath, principal: PortalWriter, session: SessionDep, settings: SettingsDep,
    vendor: Annotated[str, Query(max_length=32)] = "generic",
) -> PlainTextResponse:  # fmt: skip
    """The router configuration as a download; it holds the PSK, so writers only (as the API)."""
    row = service.get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    text = service.vpn_configuration(session=session, settings=settings, row=row, vendor=vendor)
    name = f"linkplane-breakout-{row.id}-{vendor}.conf"
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                            "Cache-Control": "no-store"})  # fmt: skip


@router.get("/{breakout_id}/delete", response_class=HTMLResponse)
def breakout_delete_confirm(
    request: Request, breakout_id: IdPath, principal: PortalWriter, session: SessionDep
) -> HTMLResponse:
    row = service.get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    return views.render(request, "breakout_delete.html", principal, row=row)


@router.post("/{breakout_id}/delete", dependencies=[CsrfChecked])
def breakout_delete(
    breakout_id: IdPath, principal: PortalWriter, factory: FactoryDep, workflows: WorkflowsDep
) -> Response:
    row = commands.delete_breakout(factory=factory, principal=principal, breakout_id=breakout_id,
                                   workflows=workflows)  # fmt: skip
    return RedirectResponse(f"/cloud-connect/{row.id}", status_code=303)
