"""HTTP routes of emnify's bulk endpoint requests (``/api/v2/endpoint/multi``): thin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from linkplane.api.deps import SessionDep, WriterDep
from linkplane.devices import bulk, bulk_update, service
from linkplane.devices.api import render
from linkplane.devices.schemas import (
    MAX_BULK,
    EndpointBulkCreate,
    EndpointBulkUpdate,
    EndpointIdIn,
    EndpointRead,
)

router = APIRouter(prefix="/api/v2", tags=["endpoints"])


@router.post("/endpoint/multi", status_code=201)
def create_endpoints(
    body: EndpointBulkCreate, session: SessionDep, principal: WriterDep
) -> list[EndpointRead]:
    """Create up to 2,000 endpoints with shared profiles and status, all or none."""
    ids = bulk.create_many(session=session, org_id=principal.org_id, data=body,
                           principal=principal)  # fmt: skip
    return [render(v) for v in service.views(session, principal.org_id, ids)]


@router.patch("/endpoint/multi", status_code=204)
def update_endpoints(
    session: SessionDep, principal: WriterDep,
    body: Annotated[list[EndpointBulkUpdate], Body(min_length=1, max_length=MAX_BULK)],
) -> Response:  # fmt: skip
    """Update up to 2,000 endpoints, each item with its id and the fields to change."""
    bulk_update.update_many(session=session, org_id=principal.org_id, items=body,
                            principal=principal)  # fmt: skip
    return Response(status_code=204)


@router.delete("/endpoint/multi", status_code=204)
def delete_endpoints(
    session: SessionDep, principal: WriterDep,
    body: Annotated[list[EndpointIdIn], Body(min_length=1, max_length=MAX_BULK)],
    delete_sims: Annotated[
        bool, Query(description="delete the endpoints' SIMs too (default: suspend them)")
    ] = False,
) -> Response:  # fmt: skip
    """Delete up to 2,000 endpoints; their SIMs are released and suspended (or deleted)."""
    bulk.delete_many(session=session, org_id=principal.org_id, ids=[i.id for i in body],
                     delete_sims=delete_sims, principal=principal)  # fmt: skip
    return Response(status_code=204)
