"""SIMs of one organisation: import, batch registration, listing and the status lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.devices import listing
from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, InvalidInput, LinkplaneError, NotFound
from linkplane.events.service import event_values, record, record_many
from linkplane.sims import importer
from linkplane.sims.models import SIM_TRANSITIONS, Sim, SimStatus
from linkplane.tenancy.principal import Principal

FILTERS = {
    "id": listing.FilterField(Sim.id, listing.parse_int),
    "iccid": listing.FilterField(Sim.iccid),
    "imsi": listing.FilterField(Sim.imsi),
    "msisdn": listing.FilterField(Sim.msisdn),
    "status": listing.FilterField(Sim.status, listing.parse_int),
    "customer_org": listing.FilterField(Sim.org_id, listing.parse_int),
    "endpoint": listing.FilterField(Endpoint.id, listing.parse_int, nullable=True),
}
SORTS = {
    "id": Sim.id,
    "iccid": Sim.iccid,
    "status": Sim.status,
    "production_date": Sim.production_date,
    "customer_org": Sim.org_id,
    "endpoint": Endpoint.id,
}


@dataclass(frozen=True)
class SimView:
    sim: Sim
    endpoint: Endpoint | None


def parse_status(value: int, *, field: str = "status") -> SimStatus:
    try:
        return SimStatus(value)
    except ValueError:
        allowed = ", ".join(f"{s.value} {s.description}" for s in SimStatus)
        raise InvalidInput(f"unknown SIM status {value}; allowed: {allowed}", field=field) from None


def _visible(org_id: int) -> Select[tuple[Sim, Endpoint]]:
    """Registered SIMs of the organisation with their endpoint (if linked)."""
    return (
        select(Sim, Endpoint)
        .outerjoin(Endpoint, Endpoint.sim_id == Sim.id)
        .where(Sim.org_id == org_id, Sim.registered.is_(True))
    )


def list_sims(
    *, session: Session, org_id: int, offset: int, limit: int, q: str | None = None,
    sort: str | None = None,
) -> tuple[list[SimView], int]:  # fmt: skip
    stmt = _visible(org_id).where(*listing.filters(q, FILTERS))
    total = listing.count(session, stmt)
    stmt = stmt.order_by(*listing.ordering(sort, SORTS, Sim.id))
    rows = session.execute(stmt.offset(offset).limit(limit))
    return [SimView(sim, ep) for sim, ep in rows], total


def get(*, session: Session, org_id: int, sim_id: int) -> SimView:
    row = session.execute(_visible(org_id).where(Sim.id == sim_id)).first()
    if row is None:
        raise NotFound(f"SIM {sim_id} not found", field="sim")
    return SimView(row[0], row[1])


def get_for_link(*, session: Session, org_id: int, sim_id: int) -> Sim:
    """A registered SIM of the organisation that an endpoint may link to."""
    return get(session=session, org_id=org_id, sim_id=sim_id).sim


def change_status(
    *, session: Session, sim: Sim, target: SimStatus, principal: Principal | None = None
) -> None:
    """Move a SIM along the lifecycle; an illegal transition is refused naming both ends."""
    current = SimStatus(sim.status)
    if target == current:
        return
    if target not in SIM_TRANSITIONS[current]:
        allowed = ", ".join(s.description for s in sorted(SIM_TRANSITIONS[current]))
        raise InvalidInput(
            f"a SIM cannot go from {current.description} to {target.description}; "
            f"from {current.description} it can go to: {allowed}",
            field="status",
        )
    sim.status = target
    if target is SimStatus.ACTIVATED and sim.activation_date is None:
        sim.activation_date = utcnow()
    record(
        session=session, org_id=sim.org_id, event_type="SIM status changed",
        description=f"SIM {sim.iccid} {current.description} -> {target.description}",
        principal=principal, entity_type="sim", entity_id=sim.id,
        detail={"from": int(current), "to": int(target)},
    )  # fmt: skip


def change_status_many(
    *, session: Session, moves: list[tuple[Sim, SimStatus]], principal: Principal | None = None
) -> None:
    """:func:`change_status` for many SIMs (a bulk request): one update per target status
    and one insert of the events. Every move must be allowed (checked before)."""
    by_target: dict[SimStatus, list[Sim]] = {}
    events_ = []
    for sim, target in moves:
        current = SimStatus(sim.status)
        if target == current:
            continue
        if target not in SIM_TRANSITIONS[current]:
            raise InvalidInput(
                f"a SIM cannot go from {current.description} to {target.description}",
                field="sim.status",
            )
        by_target.setdefault(target, []).append(sim)
        events_.append(event_values(
            org_id=sim.org_id, event_type="SIM status changed",
            description=f"SIM {sim.iccid} {current.description} -> {target.description}",
            principal=principal, entity_type="sim", entity_id=sim.id,
            detail={"from": int(current), "to": int(target)},
        ))  # fmt: skip
    for target, rows in by_target.items():
        values: dict[str, Any] = {"status": int(target)}
        if target is SimStatus.ACTIVATED:
            values["activation_date"] = func.coalesce(Sim.activation_date, utcnow())
        stmt = sql_update(Sim).where(Sim.id.in_([r.id for r in rows])).values(**values)
        session.execute(stmt, execution_options={"synchronize_session": False})
        for row in rows:
            session.expire(row)
    record_many(session=session, events=events_)


def update(
    *, session: Session, org_id: int, sim_id: int, status: int | None,
    customer_org_id: int | None = None, principal: Principal | None = None,
) -> SimView:  # fmt: skip
    """Change the SIM's status; the customer organisation can only stay the caller's own
    (linkplane has no reseller hierarchy to move SIMs in)."""
    view = get(session=session, org_id=org_id, sim_id=sim_id)
    if customer_org_id is not None and customer_org_id != org_id:
        raise NotFound(f"organisation {customer_org_id} not found", field="customer_org.id")
    if status is not None:
        target = parse_status(status)
        change_status(session=session, sim=view.sim, target=target, principal=principal)
    return view


#: emnify's bulk operations take at most this many items per request.
MAX_BULK = 2000


def delete(
    *, session: Session, org_id: int, sim_ids: list[int], principal: Principal | None = None
) -> None:
    """Delete SIMs of the organisation, all or none: an unknown (or another tenant's) id is
    404 and a SIM still linked to an endpoint is 409, naming every such SIM."""
    if not 1 <= len(sim_ids) <= MAX_BULK:
        raise InvalidInput(f"give 1 to {MAX_BULK} SIM ids", field="body")
    wanted = set(sim_ids)
    rows = session.execute(_visible(org_id).where(Sim.id.in_(wanted))).all()
    missing = sorted(wanted - {sim.id for sim, _ in rows})
    if missing:
        raise NotFound(f"SIM(s) not found: {_ids(missing)}", field="sim")
    linked = sorted(sim.id for sim, endpoint in rows if endpoint is not None)
    if linked:
        raise Conflict(
            f"SIM(s) {_ids(linked)} are assigned to an endpoint: unlink them first "
            '(PATCH /api/v1/endpoint/{id} {"sim": {"id": null}})',
            field="sim",
        )
    delete_rows(session=session, org_id=org_id, rows=[sim for sim, _ in rows],
                principal=principal)  # fmt: skip


def delete_rows(
    *, session: Session, org_id: int, rows: list[Sim], principal: Principal | None = None
) -> None:
    """Delete SIMs that no endpoint uses any more, recording each."""
    for sim in rows:
        session.delete(sim)
        record(
            session=session, org_id=org_id, event_type="SIM deleted",
            description=f"SIM {sim.iccid} deleted", principal=principal, entity_type="sim",
            entity_id=sim.id,
        )  # fmt: skip


def _ids(ids: list[int], shown: int = 20) -> str:
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(str(i) for i in ids[:shown]) + more


def _batch(session: Session, org_id: int, bic: str) -> list[Sim]:
    stmt = select(Sim).where(Sim.org_id == org_id, Sim.bic == bic).order_by(Sim.id)
    sims = list(session.scalars(stmt))
    if not sims:
        # The BIC is not echoed: a guessed BIC of another tenant reveals nothing either way.
        raise NotFound("no SIM batch with this BIC in your organisation", field="bic")
    return sims


class BatchAlreadyRegistered(LinkplaneError):
    """emnify answers 400 when validating a batch that is already registered."""

    code = "sim_batch_registered"


def validate_batch(*, session: Session, org_id: int, bic: str) -> list[Sim]:
    """The batch's SIMs if it can be registered (emnify: 404 unknown, 400 already registered)."""
    sims = _batch(session, org_id, bic)
    if all(s.registered for s in sims):
        raise BatchAlreadyRegistered(f"SIM batch {bic!r} is already registered", field="bic")
    return sims


def register_batch(
    *, session: Session, org_id: int, bic: str, status: int | None,
    principal: Principal | None = None,
) -> list[Sim]:  # fmt: skip
    """Reveal the batch's SIMs to the organisation, in ``status`` (default Issued)."""
    target = parse_status(status if status is not None else 0, field="sim_status")
    if target not in (SimStatus.ISSUED, SimStatus.ACTIVATED, SimStatus.FACTORY_TEST):
        raise InvalidInput(
            "a batch registers as Issued, Activated or Factory Test", field="sim_status"
        )
    try:
        batch = validate_batch(session=session, org_id=org_id, bic=bic)
    except BatchAlreadyRegistered as exc:
        # emnify's PATCH answers 422 here; an unknown (or another tenant's) BIC stays 404.
        raise InvalidInput(exc.message, field="bic") from None
    sims = [s for s in batch if not s.registered]
    for sim in sims:
        sim.registered = True
        change_status(session=session, sim=sim, target=target, principal=None)
    record(
        session=session, org_id=org_id, event_type="SIM batch registered",
        description=f"SIM batch {bic} registered ({len(sims)} SIMs, {target.description})",
        principal=principal, entity_type="sim_batch",
    )  # fmt: skip
    return sims


def _conflicts_with_db(session: Session, rows: list[importer.SimRow]) -> list[str]:
    problems: list[str] = []
    for column in ("iccid", "imsi", "msisdn"):
        by_value = {getattr(r, column): r.line for r in rows}
        values = list(by_value)
        col = getattr(Sim, column)
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            for value in session.scalars(select(col).where(col.in_(chunk))):
                problems.append(f"line {by_value[value]}: {column} {value} already exists")
    return sorted(problems, key=lambda p: int(p.split(":")[0].split()[1]))


def import_rows(
    *, session: Session, org_id: int, rows: list[importer.SimRow], actor: str = "cli"
) -> list[str]:
    """Store parsed rows as unregistered SIMs of ``org_id``; returns the BICs imported."""
    problems = _conflicts_with_db(session, rows)
    if problems:
        raise importer.fail_existing(problems)
    now = utcnow()
    values: list[dict[str, Any]] = [
        {"org_id": org_id, "iccid": r.iccid, "imsi": r.imsi, "msisdn": r.msisdn, "bic": r.bic,
         "registered": False, "status": int(SimStatus.ISSUED), "production_date": now}
        for r in rows
    ]  # fmt: skip
    session.execute(insert(Sim), values)
    bics = sorted({r.bic for r in rows})
    record(
        session=session, org_id=org_id, event_type="SIMs imported",
        description=f"{len(rows)} SIMs imported in batch(es) {', '.join(bics)}",
        actor=actor, source="api", entity_type="sim_batch",
    )  # fmt: skip
    return bics
