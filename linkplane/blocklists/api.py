"""HTTP routes of endpoint operator blacklists, tariff-profile blocklists and RAT types."""

from __future__ import annotations

from fastapi import APIRouter, Response

from linkplane.api.deps import PrincipalDep, SessionDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import no_content
from linkplane.blocklists import service
from linkplane.blocklists.rats import RAT_TYPES
from linkplane.blocklists.schemas import (
    BlockEntryRead,
    BlocklistRead,
    OperatorRef,
    RatRead,
    RatTypesIn,
    TariffProfileRef,
)
from linkplane.operators.api import render as render_operator
from linkplane.operators.schemas import OperatorRead

router = APIRouter(tags=["blocklists"])

BLOCKLIST = "/api/v2/tariff_profile/{tariff_profile_id}/operator_blocklist/operator"


def _entry(entry: service.BlockEntry) -> BlockEntryRead:
    rats = [RatRead(id=r.id, description=r.description) for r in entry.rat_types]
    return BlockEntryRead(
        operator=OperatorRef(id=entry.operator.id, name=entry.operator.name),
        tariff_profile=TariffProfileRef(id=entry.tariff_profile_id),
        blocklist=BlocklistRead(operator=entry.operator_blocked, rat_types=rats),
    )


@router.get("/api/v1/rat_type")
def list_rat_types(_principal: PrincipalDep) -> list[RatRead]:
    return [RatRead(id=r.id, description=r.description) for r in RAT_TYPES]


@router.get("/api/v1/endpoint/{endpoint_id}/operator_blacklist")
def get_blacklist(
    endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[OperatorRead]:
    ops = service.endpoint_blacklist(
        session=session, org_id=principal.org_id, endpoint_id=endpoint_id
    )
    return [render_operator(op) for op in ops]


@router.put("/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", status_code=204)
def add_to_blacklist(
    endpoint_id: IdPath, operator_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.blacklist_operator(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        operator_id=operator_id,
        principal=principal,
    )
    return no_content()


@router.delete("/api/v1/endpoint/{endpoint_id}/operator_blacklist/{operator_id}", status_code=204)
def remove_from_blacklist(
    endpoint_id: IdPath, operator_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.unblacklist_operator(
        session=session,
        org_id=principal.org_id,
        endpoint_id=endpoint_id,
        operator_id=operator_id,
        principal=principal,
    )
    return no_content()


@router.get(BLOCKLIST)
def get_tariff_blocklist(
    tariff_profile_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[BlockEntryRead]:
    """Every operator the profile blocks (see docs/api-compat.md: a list, not one object)."""
    entries = service.tariff_blocklist(
        session=session, org_id=principal.org_id, tariff_profile_id=tariff_profile_id
    )
    return [_entry(e) for e in entries]


@router.get(BLOCKLIST + "/{operator_id}")
def get_tariff_block(
    tariff_profile_id: IdPath, operator_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> BlockEntryRead:
    return _entry(
        service.tariff_block_entry(
            session=session,
            org_id=principal.org_id,
            tariff_profile_id=tariff_profile_id,
            operator_id=operator_id,
        )
    )


@router.put(BLOCKLIST + "/{operator_id}", status_code=204)
def block_operator(
    tariff_profile_id: IdPath, operator_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.block_operator(
        session=session,
        org_id=principal.org_id,
        tariff_profile_id=tariff_profile_id,
        operator_id=operator_id,
        principal=principal,
    )
    return no_content()


@router.delete(BLOCKLIST + "/{operator_id}", status_code=204)
def unblock_operator(
    tariff_profile_id: IdPath, operator_id: IdPath, session: SessionDep, principal: WriterDep
) -> Response:
    service.unblock_operator(
        session=session,
        org_id=principal.org_id,
        tariff_profile_id=tariff_profile_id,
        operator_id=operator_id,
        principal=principal,
    )
    return no_content()


@router.post(BLOCKLIST + "/{operator_id}/rat_type", status_code=204)
def block_rat_types(
    tariff_profile_id: IdPath,
    operator_id: IdPath,
    body: RatTypesIn,
    session: SessionDep,
    principal: WriterDep,
) -> Response:
    service.block_rats(
        session=session,
        org_id=principal.org_id,
        tariff_profile_id=tariff_profile_id,
        operator_id=operator_id,
        rat_ids=[r.id for r in body.rat_types],
        principal=principal,
    )
    return no_content()


@router.delete(BLOCKLIST + "/{operator_id}/rat_type/{rate_type_id}", status_code=204)
def unblock_rat_type(
    tariff_profile_id: IdPath,
    operator_id: IdPath,
    rate_type_id: IdPath,
    session: SessionDep,
    principal: WriterDep,
) -> Response:
    service.unblock_rat(
        session=session,
        org_id=principal.org_id,
        tariff_profile_id=tariff_profile_id,
        operator_id=operator_id,
        rat_id=rate_type_id,
        principal=principal,
    )
    return no_content()
