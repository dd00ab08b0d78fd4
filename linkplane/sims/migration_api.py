"""HTTP route of SIM migration between organisations (thin: parse, call, render)."""

from __future__ import annotations

from fastapi import APIRouter

from linkplane.api.deps import PrincipalDep, SessionDep
from linkplane.sims import migration
from linkplane.sims.importer import iccid_with_luhn
from linkplane.sims.models import SimStatus
from linkplane.sims.schemas import (
    MigratedSim,
    MigrationRequest,
    MigrationResult,
    OrgRef,
    StatusRef,
)
from linkplane.sims.service import parse_status

router = APIRouter(prefix="/api/v1", tags=["sims"])


def _status(status: SimStatus) -> StatusRef:
    return StatusRef(id=int(status), description=status.description)


def _request(body: MigrationRequest) -> migration.Request:
    allowed = None
    if body.allowed_sim_statuses is not None:
        allowed = [
            parse_status(s.id, field=f"allowed_sim_statuses[{i}].id")
            for i, s in enumerate(body.allowed_sim_statuses)
        ]
    rng = body.iccid_range
    return migration.Request(
        target_org_id=body.target_workspace.id,
        selection=migration.Selection(
            sim_ids=[s.id for s in body.sims] if body.sims else None,
            iccids=body.iccids or None,
            iccid_range=(rng.start, rng.end) if rng else None,
        ),
        dry_run=body.dry_run,
        auto_detach=body.auto_detach_devices,
        allowed_statuses=allowed,
    )


@router.post(
    "/sim/migration/workspace", response_model=MigrationResult, response_model_exclude_none=True
)
def migrate_sims(
    body: MigrationRequest, principal: PrincipalDep, session: SessionDep
) -> MigrationResult:
    """Move SIMs to another organisation (a dry run unless ``dry_run`` is false)."""
    request = _request(body)
    target, moves = migration.resolve(session=session, principal=principal, request=request)
    # Rendered before the move: the answer shows each SIM as it was (source, endpoint).
    sims = [
        MigratedSim(
            id=m.sim.id, iccid=m.sim.iccid, iccid_with_luhn=iccid_with_luhn(m.sim.iccid),
            status=_status(m.status_before),
            source_workspace=OrgRef(id=m.source.id, name=m.source.name),
            endpoint=OrgRef(id=m.endpoint.id, name=m.endpoint.name) if m.endpoint else None,
        )
        for m in moves
    ]  # fmt: skip
    if not request.dry_run:
        migration.execute(session=session, principal=principal, target=target, moves=moves)
    return MigrationResult(
        sim_count=len(moves),
        dry_run=request.dry_run,
        auto_detach_devices=request.auto_detach,
        target_workspace=OrgRef(id=target.id, name=target.name),
        allowed_sim_statuses=None
        if request.allowed_statuses is None
        else [_status(s) for s in request.allowed_statuses],
        sims=sims,
    )
