"""Moving SIMs from one organisation to another (emnify: "SIM migration between workspaces").

emnify requires administrator rights on both workspaces. In linkplane a user belongs to one
organisation, and only provider administrators act on others, so in practice a provider
administrator moves SIMs between customers (e.g. a device fleet sold on); an ordinary admin
can name no other organisation (404). The request is a dry run unless ``dry_run`` is false,
and all-or-nothing: every SIM is checked before any moves.

Moving a SIM: it is detached from its endpoint (only with ``auto_detach_devices``),
suspended if it was Activated (emnify does the same), and then belongs to the target; its
past usage and events stay with the organisation that had it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, Forbidden, LinkplaneError, NotFound
from linkplane.events.service import record
from linkplane.ids import ascii_digits
from linkplane.sims import service as sims
from linkplane.sims.models import Sim, SimStatus
from linkplane.tenancy.models import Organisation
from linkplane.tenancy.principal import Principal

MAX_SIMS = 500
#: emnify's error codes in the 409 answer.
ATTACHED, DISALLOWED_STATUS = 1502, 1503


class MigrationRequestInvalid(LinkplaneError):
    """A malformed migration request (emnify answers 400, not 422)."""

    code = "bad_request"


@dataclass(frozen=True)
class Selection:
    """Exactly one way of naming the SIMs (checked by :func:`resolve`)."""

    sim_ids: list[int] | None = None
    iccids: list[str] | None = None
    iccid_range: tuple[str, str] | None = None


@dataclass(frozen=True)
class Request:
    target_org_id: int
    selection: Selection
    dry_run: bool = True
    auto_detach: bool = False
    allowed_statuses: list[SimStatus] | None = None


@dataclass
class Moved:
    sim: Sim
    source: Organisation
    endpoint: Endpoint | None
    status_before: SimStatus = field(init=False)

    def __post_init__(self) -> None:
        self.status_before = SimStatus(self.sim.status)


def _check_iccid(value: str, name: str) -> str:
    if len(value) != 19 or not ascii_digits(value):
        raise MigrationRequestInvalid(f"{name} must be an ICCID of exactly 19 digits", field=name)
    return value


def _where(selection: Selection) -> list[ColumnElement[bool]]:
    given = [x for x in (selection.sim_ids, selection.iccids, selection.iccid_range) if x]
    if len(given) != 1:
        raise MigrationRequestInvalid(
            "give exactly one of sims, iccids or iccid_range", field="sims"
        )
    if selection.sim_ids:
        _limit(len(selection.sim_ids))
        return [Sim.id.in_(selection.sim_ids)]
    if selection.iccids:
        _limit(len(selection.iccids))
        return [Sim.iccid.in_([_check_iccid(i, "iccids") for i in selection.iccids])]
    assert selection.iccid_range is not None
    start = _check_iccid(selection.iccid_range[0], "iccid_range.start")
    end = _check_iccid(selection.iccid_range[1], "iccid_range.end")
    if int(end) < int(start):
        raise MigrationRequestInvalid("iccid_range.end is below start", field="iccid_range.end")
    _limit(int(end) - int(start) + 1)
    return [Sim.iccid >= start, Sim.iccid <= end]


def _limit(count: int) -> None:
    if count > MAX_SIMS:
        raise MigrationRequestInvalid(
            f"at most {MAX_SIMS} SIMs per request, got {count}: split the request", field="sims"
        )


def _orgs(principal: Principal) -> list[ColumnElement[bool]]:
    """The organisations the caller administers: all for provider admins, else its own."""
    return [] if principal.provider_admin else [Sim.org_id == principal.org_id]


def _target(session: Session, principal: Principal, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or not (principal.provider_admin or org.id == principal.org_id):
        raise NotFound(f"target workspace {org_id} not found", field="target_workspace.id")
    return org


def resolve(*, session: Session, principal: Principal, request: Request) -> tuple[
    Organisation, list[Moved]
]:  # fmt: skip
    """The target and the SIMs to move, every requirement checked (nothing changed)."""
    if principal.user_id is None or not principal.can_write:
        raise Forbidden("SIM migration needs an administrator's user credentials "
                        "(application tokens are scoped to one organisation)")  # fmt: skip
    where = _where(request.selection)
    target = _target(session, principal, request.target_org_id)
    rows = session.execute(
        select(Sim, Organisation, Endpoint)
        .join(Organisation, Organisation.id == Sim.org_id)
        .outerjoin(Endpoint, Endpoint.sim_id == Sim.id)
        .where(Sim.registered.is_(True), *where, *_orgs(principal))
        .order_by(Sim.iccid)
    ).all()
    _check_found(request.selection, len(rows))
    moves = [Moved(sim, org, ep) for sim, org, ep in rows]
    _check_requirements(moves, request, target)
    return target, moves


def _check_found(selection: Selection, found: int) -> None:
    named = selection.sim_ids or selection.iccids
    if not found or (named is not None and found != len(set(named))):
        raise NotFound("one or more SIMs were not found or are not accessible", field="sims")


def _check_requirements(moves: list[Moved], request: Request, target: Organisation) -> None:
    problems: list[tuple[str, str]] = []
    for i, move in enumerate(moves):
        where = f"sims[{i}]"
        if move.sim.org_id == target.id:
            problems.append((where, f"SIM {move.sim.iccid} is already in the target workspace"))
        if move.endpoint is not None and not request.auto_detach:
            problems.append((where, f"{ATTACHED}: SIM {move.sim.iccid} is attached to endpoint "
                             f"{move.endpoint.id}: set auto_detach_devices to true"))  # fmt: skip
        allowed = request.allowed_statuses
        if allowed is not None and move.status_before not in allowed:
            status = move.status_before.description
            problems.append((where, f"{DISALLOWED_STATUS}: SIM {move.sim.iccid} is {status}, "
                             "not one of allowed_sim_statuses"))  # fmt: skip
    if problems:
        raise Conflict(
            f"{len(problems)} SIM(s) do not meet the requirements for migration; nothing moved",
            field=problems[0][0],
            details=problems,
        )


def execute(
    *, session: Session, principal: Principal, target: Organisation, moves: list[Moved]
) -> None:
    """Detach, suspend if Activated, move; an event in both organisations per SIM."""
    for move in moves:
        sim = move.sim
        if move.endpoint is not None:
            move.endpoint.sim_id = None
        if move.status_before is SimStatus.ACTIVATED:
            sims.change_status(session=session, sim=sim, target=SimStatus.SUSPENDED,
                               principal=principal)  # fmt: skip
        session.flush()
        text = f"SIM {sim.iccid} migrated from {move.source.name} to {target.name}"
        for org_id in (move.source.id, target.id):
            record(session=session, org_id=org_id, event_type="SIM migrated", description=text,
                   principal=principal, entity_type="sim", entity_id=sim.id)  # fmt: skip
        sim.org_id = target.id
