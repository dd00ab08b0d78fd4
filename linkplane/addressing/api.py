"""HTTP routes of IP address spaces (thin: parse, call the service, render)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from linkplane.addressing import service
from linkplane.addressing.models import IpAddressSpace
from linkplane.addressing.schemas import (
    IpAddressSpaceAvailable,
    IpAddressSpaceCreate,
    IpAddressSpaceRead,
)
from linkplane.api.deps import PrincipalDep, ProviderAdminDep, SessionDep, SettingsDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import set_location
from linkplane.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["ip address spaces"])


def _read(space: IpAddressSpace) -> IpAddressSpaceRead:
    return IpAddressSpaceRead(
        id=space.id, ip_address_space=space.cidr, ip_address_version=space.ip_version,
        used_count=space.used_count, available_count=service.available_count(space),
    )  # fmt: skip


@router.get("/ip_address_space")
def list_spaces(session: SessionDep, principal: PrincipalDep) -> list[IpAddressSpaceRead]:
    return [_read(s) for s in service.list_for_org(session=session, org_id=principal.org_id)]


@router.post("/ip_address_space", status_code=201)
def create_space(
    body: IpAddressSpaceCreate, session: SessionDep, settings: SettingsDep,
    principal: WriterDep, request: Request, response: Response,
) -> IpAddressSpaceAvailable:  # fmt: skip
    """Check a requested CIDR for validity and availability, then assign it to the caller."""
    if body.ip_address_version != 4:
        raise InvalidInput(
            "only IPv4 (ip_address_version 4) is supported", field="ip_address_version"
        )
    space = service.create_space(
        session=session, device_cidr=settings.device_cidr, cidr=body.ip_address_space,
        org_id=principal.org_id, principal=principal,
    )  # fmt: skip
    set_location(response, request, f"/api/v1/ip_address_space/{space.id}")
    return IpAddressSpaceAvailable(
        id=space.id, ip_address_space=space.cidr, ip_address_version=space.ip_version
    )


@router.post("/ip_address_space/pool", status_code=201)
def create_pool_space(
    body: IpAddressSpaceCreate, session: SessionDep, settings: SettingsDep,
    _admin: ProviderAdminDep, request: Request, response: Response,
) -> IpAddressSpaceAvailable:  # fmt: skip
    """linkplane extension: a provider administrator adds an unassigned space to the pool."""
    space = service.create_space(
        session=session, device_cidr=settings.device_cidr, cidr=body.ip_address_space
    )
    set_location(response, request, f"/api/v1/ip_address_space/{space.id}")
    return IpAddressSpaceAvailable(
        id=space.id, ip_address_space=space.cidr, ip_address_version=space.ip_version
    )


@router.get("/ip_address_space/available")
def list_available(
    session: SessionDep, _principal: PrincipalDep,
    ip_address_version: Annotated[int, Query(ge=0, le=255)] = 4,
) -> list[IpAddressSpaceAvailable]:
    if ip_address_version != 4:
        return []
    return [
        IpAddressSpaceAvailable(id=s.id, ip_address_space=s.cidr, ip_address_version=s.ip_version)
        for s in service.list_available(session=session)
    ]


@router.put("/ip_address_space/{space_id}", status_code=204)
def assign_space(space_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.assign(
        session=session, org_id=principal.org_id, space_id=space_id, principal=principal
    )
    return Response(status_code=204)


@router.delete("/ip_address_space/{space_id}", status_code=204)
def release_space(space_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
    service.release(
        session=session, org_id=principal.org_id, space_id=space_id, principal=principal
    )
    return Response(status_code=204)
