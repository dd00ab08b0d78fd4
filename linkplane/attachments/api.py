"""Cloud Connect HTTP routes (emnify ``/api/v1/cnc/...``): parse, call the service, render.

Reads use the request's session; writes are :mod:`linkplane.attachments.commands`, which
commit in their own transaction and then start or signal the workflow.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from linkplane.api.deps import (
    FactoryDep,
    PageDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    WorkflowsDep,
    WriterDep,
)
from linkplane.api.pagination import set_page_headers
from linkplane.api.params import IdPath
from linkplane.api.responses import set_location
from linkplane.attachments import commands, cost, crossregion, service
from linkplane.attachments.models import (
    STATUS_DESCRIPTION,
    TYPE_DESCRIPTION,
    Breakout,
    BreakoutType,
    Status,
)
from linkplane.attachments.schemas import (
    AvailableRegion,
    AwsResources,
    BreakoutCostRead,
    BreakoutEventRead,
    BreakoutRead,
    BreakoutTgwCreate,
    BreakoutVpnCreate,
    CurrencyRef,
    IdDescription,
    ListPrices,
    PriceRead,
    TunnelInformation,
    TunnelMetrics,
    VpnTunnelRead,
)
from linkplane.events.models import Event
from linkplane.ids import parse_id
from linkplane.settings import Settings

router = APIRouter(prefix="/api/v1/cnc", tags=["cloud connect"])


def _event(e: Event) -> BreakoutEventRead:
    return BreakoutEventRead(
        id=e.id, timestamp=e.timestamp, event_type=e.event_type, description=e.description,
        actor=e.actor, severity=e.severity, detail=json.loads(e.detail) if e.detail else {},
    )  # fmt: skip


def render(row: Breakout, events: list[Event] | None = None) -> BreakoutRead:
    status = Status(row.status_id)
    btype = BreakoutType(row.type_id)
    return BreakoutRead(
        id=row.id,
        name=row.name,
        description=row.description,
        user_id=row.user_id,
        creation_date=row.creation_date,
        accept_attachment_expiry_date=service.expiry_of(row),
        termination_date=row.termination_date,
        aws_transit_gateway_attachment_id=row.attachment_id,
        status=IdDescription(id=status, description=STATUS_DESCRIPTION[status]),
        type=IdDescription(id=btype, description=TYPE_DESCRIPTION[btype]),
        region=row.region,
        vpc_cidr=row.cidr_list,
        aws_account_id=row.aws_account_id,
        expired=row.expired,
        status_reason=row.status_reason,
        revision=row.revision,
        invitation_expiry_date=row.invitation_expiry_date,
        aws_resources=AwsResources(
            transit_gateway_id=row.tgw_id,
            resource_share_arn=row.share_arn,
            transit_gateway_attachment_id=row.attachment_id,
            associated_route_table_id=row.associated_route_table_id,
            core_route_table_id=row.core_route_table_id,
            routes=row.route_list,
            customer_gateway_id=row.customer_gateway_id,
            vpn_connection_id=row.vpn_connection_id,
            crossregion_routes=[r.label() for r in crossregion.recorded(row)] or None,
            customer_gateway_id_2=row.customer_gateway_id_2,
            vpn_connection_id_2=row.vpn_connection_id_2,
            transit_gateway_attachment_id_2=row.attachment_id_2,
        ),
        history=[_event(e) for e in events] if events is not None else None,
        **(_vpn_fields(row) if row.is_vpn else {}),
    )


def _vpn_fields(row: Breakout) -> dict[str, Any]:
    """What a VPN breakout adds: emnify's ``aws_vpn_connection_id`` and ``tunnel_information``
    (the first tunnel that is up, else the first), and every tunnel as an extension."""
    tunnels = row.tunnel_list
    shown = next((t for t in tunnels if t.get("status") == "UP"), tunnels[0] if tunnels else None)
    return {
        "aws_vpn_connection_id": row.vpn_connection_id,
        "on_prem_cidr": row.cidr_list,
        "public_ip": row.vpn_public_ip,
        "public_ip_2": row.vpn_public_ip_2,
        "aws_vpn_connection_id_2": row.vpn_connection_id_2,
        "asn": row.vpn_asn,
        "inside_cidr": [t["inside_cidr"] for t in tunnels] or row.inside_cidr_list,
        "tunnels": [_tunnel(t, service.customer_ip(row, t)) for t in tunnels],
        "tunnel_information": _tunnel_information(row, shown) if shown else None,
    }


def _tunnel(t: dict[str, Any], customer: str | None) -> VpnTunnelRead:
    return VpnTunnelRead(vpn_connection_id=t.get("vpn_connection_id"), customer_ip=customer,
                         outside_address=t["outside_ip"], inside_cidr=t["inside_cidr"],
                         status=t.get("status", "DOWN"),
                         last_status_change=t.get("last_status_change"),
                         bytes_in=t.get("bytes_in", 0),
                         bytes_out=t.get("bytes_out", 0))  # fmt: skip


def _tunnel_information(row: Breakout, t: dict[str, Any]) -> TunnelInformation:
    at = t.get("metrics_at")
    metrics = TunnelMetrics(tunnel_state=t.get("status", "DOWN"),
                            bytes_in={at: t.get("bytes_in", 0.0)} if at else {},
                            bytes_out={at: t.get("bytes_out", 0.0)} if at else {})  # fmt: skip
    return TunnelInformation(public_ip=service.customer_ip(row, t) or "",
                             outside_address=t["outside_ip"],
                             inside_cidr=t["inside_cidr"], asn=row.vpn_asn,
                             metrics=metrics)  # fmt: skip


@router.get("/breakout", response_model=list[BreakoutRead], response_model_exclude_none=True)
def list_breakouts(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    response: Response,
    status: Annotated[
        int | None, Query(ge=1, le=8, description="status id; 7 lists the deleted ones")
    ] = None,
    type: Annotated[int | None, Query(ge=1, le=8, description="type id")] = None,
) -> list[BreakoutRead]:
    """Deleted (Deactivated) breakouts are left out unless ``status=7`` asks for them."""
    rows, total = service.list_breakouts(
        session=session, org_id=principal.org_id, status_id=status, type_id=type,
        hide_deactivated=True, offset=page.offset, limit=page.per_page,
    )  # fmt: skip
    set_page_headers(response, page, total)
    return [render(r) for r in rows]


@router.post("/breakout/tgw", status_code=201, response_model_exclude_none=True)
def create_tgw(
    data: BreakoutTgwCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    principal: WriterDep,
    workflows: WorkflowsDep,
    request: Request,
    response: Response,
) -> BreakoutRead:
    row = commands.request_breakout(factory=factory, settings=settings, principal=principal,
                                    data=data, workflows=workflows)  # fmt: skip
    set_location(response, request, f"/api/v1/cnc/breakout/{row.id}")
    return render(row)


@router.post("/breakout/vpn", status_code=201, response_model_exclude_none=True)
def create_vpn(
    data: BreakoutVpnCreate,
    factory: FactoryDep,
    settings: SettingsDep,
    principal: WriterDep,
    workflows: WorkflowsDep,
    request: Request,
    response: Response,
) -> BreakoutRead:
    """Types 2 (static) and 3 (BGP); emnify answers 201 with an empty body, linkplane with
    the breakout (a superset), and ``Location`` as for TGW breakouts."""
    row = commands.request_breakout(factory=factory, settings=settings, principal=principal,
                                    data=data, workflows=workflows)  # fmt: skip
    set_location(response, request, f"/api/v1/cnc/breakout/{row.id}")
    return render(row)


def _parse_id(raw: str) -> int:
    # The path takes a string (emnify's spec types it so); the id rules are the shared ones.
    return parse_id(raw, "cloudconnect_attachment_id")


@router.get(
    "/breakout/{cloudconnect_attachment_id}",
    response_model=list[BreakoutRead],
    response_model_exclude_none=True,
)
def get_breakout(
    cloudconnect_attachment_id: str, session: SessionDep, principal: PrincipalDep
) -> list[BreakoutRead]:
    """emnify's spec returns a one-element array here; the element carries ``history``."""
    breakout_id = _parse_id(cloudconnect_attachment_id)
    row = service.get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    events = service.history(session=session, org_id=principal.org_id, breakout_id=row.id)
    return [render(row, events)]


@router.get("/breakout/{cloudconnect_attachment_id}/vpn_configuration",
            response_class=PlainTextResponse)  # fmt: skip
def get_vpn_configuration(
    cloudconnect_attachment_id: str, session: SessionDep, settings: SettingsDep,
    principal: WriterDep,
    vendor: Annotated[str, Query(description="strongswan or generic")] = "generic",
) -> PlainTextResponse:  # fmt: skip
    """Extension: what the customer applies to its VPN server (both tunnels' outside
    addresses, PSK, inside addresses, proposals; for BGP the ASNs and neighbours). It holds
    the pre-shared key: users who may change breakouts read it, observers do not."""
    row = service.get_breakout(session=session, org_id=principal.org_id,
                               breakout_id=_parse_id(cloudconnect_attachment_id))  # fmt: skip
    text = service.vpn_configuration(session=session, settings=settings, row=row, vendor=vendor)
    name = f"linkplane-breakout-{row.id}-{vendor}.conf"
    disposition = f'attachment; filename="{name}"'
    return PlainTextResponse(text, headers={"Content-Disposition": disposition})


@router.get("/breakout/{cloudconnect_attachment_id}/cost")
def get_cost(
    cloudconnect_attachment_id: str, session: SessionDep, settings: SettingsDep,
    principal: PrincipalDep,
) -> BreakoutCostRead:  # fmt: skip
    """Extension: the breakout's AWS cost so far at list prices (USD)."""
    found = cost.breakout_cost(session=session, settings=settings, org_id=principal.org_id,
                               breakout_id=_parse_id(cloudconnect_attachment_id))  # fmt: skip
    return render_cost(found, settings)


def render_cost(found: cost.BreakoutCost, settings: Settings) -> BreakoutCostRead:
    return BreakoutCostRead(
        breakout_id=found.breakout_id, active_hours=round(found.active_hours, 3),
        data_gb=round(found.data_gb, 6), attachment_cost=round(found.attachment_usd, 4),
        vpn_connection_cost=round(found.vpn_usd, 4), data_cost=round(found.data_usd, 4),
        amount=round(found.total_usd, 4), since=found.since,
        list_prices=ListPrices(attachment_hour=settings.aws_tgw_attachment_hour_usd,
                               data_gb=settings.aws_tgw_data_gb_usd,
                               vpn_connection_hour=settings.aws_vpn_connection_hour_usd),
    )  # fmt: skip


@router.get("/pricing")
def pricing(settings: SettingsDep, _principal: PrincipalDep) -> list[PriceRead]:
    """The provider's monthly price per breakout type (``LINKPLANE_CNC_MONTHLY_PRICES``)."""
    return [PriceRead(id=p.breakout_type_id, breakout_type_id=p.breakout_type_id,
                      amount=p.amount, currency=CurrencyRef(id=p.currency_id))
            for p in cost.prices(settings)]  # fmt: skip


@router.get("/breakout/{cloudconnect_attachment_id}/event", response_model=list[BreakoutEventRead])
def get_history(
    cloudconnect_attachment_id: str, session: SessionDep, principal: PrincipalDep
) -> list[BreakoutEventRead]:
    """Extension: the breakout's history, every state change and AWS resource, oldest first."""
    breakout_id = _parse_id(cloudconnect_attachment_id)
    row = service.get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    return [_event(e) for e in service.history(session=session, org_id=row.org_id,
                                               breakout_id=row.id)]  # fmt: skip


@router.delete("/breakout/{cloudconnect_attachment_id}")
def delete_breakout(
    cloudconnect_attachment_id: str, factory: FactoryDep, principal: WriterDep,
    workflows: WorkflowsDep,
) -> dict[str, Any]:  # fmt: skip
    commands.delete_breakout(factory=factory, principal=principal, workflows=workflows,
                             breakout_id=_parse_id(cloudconnect_attachment_id))  # fmt: skip
    return {}


@router.patch("/breakout/{cloudconnect_attachment_id}")
def retry_breakout(
    cloudconnect_attachment_id: str, factory: FactoryDep, settings: SettingsDep,
    principal: WriterDep, workflows: WorkflowsDep,
) -> dict[str, Any]:  # fmt: skip
    commands.retry_breakout(factory=factory, settings=settings, principal=principal,
                            workflows=workflows,
                            breakout_id=_parse_id(cloudconnect_attachment_id))  # fmt: skip
    return {}


@router.post("/breakout/{cloudconnect_attachment_id}/recheck", status_code=202)
def recheck(
    cloudconnect_attachment_id: str, factory: FactoryDep, settings: SettingsDep,
    principal: WriterDep, workflows: WorkflowsDep,
) -> dict[str, Any]:  # fmt: skip
    """Extension: check the invitation / attachment now instead of at the next poll (and
    repair a breakout whose workflow stopped without finishing it)."""
    commands.recheck_breakout(factory=factory, settings=settings, principal=principal,
                              workflows=workflows,
                              breakout_id=_parse_id(cloudconnect_attachment_id))  # fmt: skip
    return {}


@router.get("/breakout_type", response_model=list[IdDescription])
def breakout_types(principal: PrincipalDep) -> list[IdDescription]:
    return [IdDescription(id=t, description=d) for t, d in TYPE_DESCRIPTION.items()]


@router.get("/breakout_type/{breakout_type_id}/available_region")
def available_regions(
    breakout_type_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[AvailableRegion]:
    """Bootstrapped regions with themselves and peered pairs both ways, for TGW; each
    bootstrapped region with itself for VPN (types 2-3); none for the types linkplane cannot
    provision yet (4, 5)."""
    return [
        AvailableRegion(attachment_region=a, device_breakout_region=d)
        for a, d in service.available_pairs(session=session, type_id=breakout_type_id)
    ]
