"""Bulk endpoint requests (emnify's ``/api/v2/endpoint/multi``): up to 2,000 endpoints per
request, all or nothing.

Every item is checked before anything is written, and every failing item is named
(``endpoints[3].sim``, ``[7].id``), so one answer lists all there is to fix. The work is a
fixed number of statements per request (references, SIMs and addresses are loaded and
allocated for all items at once, rows are inserted in batches), not a round trip per item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkplane.addressing import service as addressing
from linkplane.addressing.models import IpAddressSpace
from linkplane.db import utcnow
from linkplane.devices import service
from linkplane.devices.models import Endpoint
from linkplane.devices.schemas import (
    BulkEndpointIn,
    EndpointBulkCreate,
    SimLink,
)
from linkplane.errors import Conflict, InvalidInput, LinkplaneError, NotFound, item_field
from linkplane.events.service import event_values, record_many
from linkplane.profiles import regions as profile_regions
from linkplane.sims import service as sims
from linkplane.sims.models import SIM_TRANSITIONS, Sim, SimStatus
from linkplane.tenancy.principal import Principal

#: Bound parameters per IN list (SQLite caps them per statement).
_CHUNK = 500
#: Column values of a new endpoint that no request field sets (the model's defaults).
_DEFAULTS: dict[str, Any] = {"name": "", "tags": None, "imei": None, "imei_lock": False}


@dataclass
class Problems:
    """The failing items of one bulk request, raised together."""

    prefix: str
    found: list[tuple[type[LinkplaneError], str, str]] = field(default_factory=list)

    def add(self, index: int, exc: LinkplaneError, default_field: str | None = None) -> None:
        where = item_field(self.prefix, index, exc.field or default_field)
        self.found.append((type(exc), where, exc.message))

    def check(self, what: str) -> None:
        """Raise if any item failed: with the items' own status when they agree (404, 409),
        else 422."""
        if not self.found:
            return
        kinds = {kind for kind, _, _ in self.found}
        kind = kinds.pop() if len(kinds) == 1 else InvalidInput
        details = [(where, message) for _, where, message in self.found]
        shown = "; ".join(f"{w}: {m}" for w, m in details[:10])
        more = f"; and {len(details) - 10} more" if len(details) > 10 else ""
        raise kind(
            f"{len(details)} of the {what} are invalid, nothing changed: {shown}{more}",
            field=details[0][0], details=details,
        )  # fmt: skip


# --- SIMs of a bulk request ----------------------------------------------------------------


@dataclass(frozen=True)
class SimState:
    sim: Sim
    holder: int | None


def load_sims(session: Session, org_id: int, ids: Iterable[int]) -> dict[int, SimState]:
    """The caller's registered SIMs among ``ids`` with the endpoint each is linked to."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = (
        select(Sim, Endpoint.id)
        .outerjoin(Endpoint, Endpoint.sim_id == Sim.id)
        .where(Sim.org_id == org_id, Sim.registered.is_(True), Sim.id.in_(wanted))
    )
    return {sim.id: SimState(sim, holder) for sim, holder in session.execute(stmt)}


def check_sim(
    link: SimLink, states: dict[int, SimState], own: int | None, seen: set[int]
) -> SimStatus | None:
    """The SIM status ``link`` asks for, after checking the SIM can be linked to endpoint
    ``own`` (None: a new one) and the status can be reached."""
    target = service.sim_target(link)
    if link.id is None:
        if target is not None:
            raise InvalidInput("a SIM status needs a SIM: give sim.id", field="sim.status")
        return None
    state = states.get(link.id)
    if state is None:
        raise InvalidInput(f"SIM {link.id} not found", field="sim")
    if link.id in seen:
        raise Conflict(f"SIM {link.id} is given to more than one endpoint", field="sim")
    seen.add(link.id)
    if state.holder is not None and state.holder != own:
        raise Conflict(f"SIM {link.id} is already linked to endpoint {state.holder}", field="sim")
    current = SimStatus(state.sim.status)
    if target is not None and target != current and target not in SIM_TRANSITIONS[current]:
        raise InvalidInput(
            f"a SIM cannot go from {current.description} to {target.description}",
            field="sim.status",
        )
    return target


@contextmanager
def conflicts() -> Iterator[None]:
    """A concurrent request that took a SIM or an address meanwhile: 409, nothing changed
    (the request's transaction rolls back)."""
    try:
        yield
    except IntegrityError as exc:
        name = service.field_of(exc)
        raise Conflict(
            f"{name} was taken by another request meanwhile: nothing changed, try again",
            field=name,
        ) from None


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert endpoint rows in one batched statement; their ids in the order of ``rows``.

    Not through the ORM: on SQLite it inserts one row per statement when it must read the
    new ids back in order. Every new row has its own (space, address), which finds its id.
    """
    with conflicts():
        session.execute(insert(Endpoint), rows)
    space_id = rows[0]["ip_address_space_id"]
    addresses = [r["ip_address"] for r in rows]
    found: dict[str, int] = {}
    for start in range(0, len(addresses), _CHUNK):
        stmt = select(Endpoint.ip_address, Endpoint.id).where(
            Endpoint.ip_address_space_id == space_id,
            Endpoint.ip_address.in_(addresses[start : start + _CHUNK]),
        )
        found.update({address: endpoint_id for address, endpoint_id in session.execute(stmt)})
    return [found[a] for a in addresses]


# --- POST: create --------------------------------------------------------------------------


def _check_create_item(
    item: BulkEndpointIn, states: dict[int, SimState], seen: set[int]
) -> tuple[dict[str, Any], SimStatus | None]:
    values = service.scalar_values(item)
    if values.get("imei_lock") and not values.get("imei"):
        raise InvalidInput("imei_lock needs an imei to lock to", field="imei_lock")
    target = check_sim(item.sim, states, None, seen) if item.sim is not None else None
    return values, target


def _create_addresses(
    session: Session, space: IpAddressSpace, items: list[BulkEndpointIn], problems: Problems
) -> list[str]:
    """Each item's address: the chosen ones reserved, the others allocated, lowest first."""
    chosen = [i.ip_address for i in items if i.ip_address]
    index = {address: n for n, address in enumerate(i.ip_address for i in items)}
    for address in sorted({a for a in chosen if chosen.count(a) > 1}):
        problems.add(index[address], Conflict(f"{address} is given twice", field="ip_address"))
    problems.check("endpoints")
    refused = addressing.reserve_many(session=session, space=space, addresses=chosen)
    for address, why in refused.items():
        problems.add(index[address], InvalidInput(why, field="ip_address"))
    problems.check("endpoints")
    free = iter(addressing.allocate_many(session=session, space=space,
                                         count=len(items) - len(chosen)))  # fmt: skip
    return [i.ip_address or next(free) for i in items]


def create_many(
    *, session: Session, org_id: int, data: EndpointBulkCreate, principal: Principal | None
) -> list[int]:
    """Create every endpoint of ``data`` or none; their ids in request order."""
    service.check_organisation(data.organisation, org_id)
    shared = {"status": service.checked_status(data.status.id),
              **service.profile_ids(session, org_id, data.service_profile,
                                    data.tariff_profile)}  # fmt: skip
    if any(i.ip_address for i in data.endpoints) and data.ip_address_space is None:
        raise InvalidInput("ip_address needs ip_address_space as well", field="ip_address_space")
    pool = profile_regions.pool_of_profile(session, shared.get("service_profile_id"))
    space = service.space_for(session, org_id, data.ip_address_space, pool)
    problems = Problems("endpoints")
    states = load_sims(session, org_id, (i.sim.id for i in data.endpoints if i.sim and i.sim.id))
    checked: list[tuple[dict[str, Any], SimStatus | None]] = []
    seen: set[int] = set()
    for n, item in enumerate(data.endpoints):
        try:
            checked.append(_check_create_item(item, states, seen))
        except LinkplaneError as exc:
            problems.add(n, exc)
    problems.check("endpoints")
    addresses = _create_addresses(session, space, data.endpoints, problems)
    now = utcnow()
    rows, moves = [], []
    for item, (values, target), address in zip(data.endpoints, checked, addresses, strict=True):
        sim_id = item.sim.id if item.sim else None
        rows.append({**_DEFAULTS, **shared, **values, "org_id": org_id, "sim_id": sim_id,
                     "ip_address_space_id": space.id, "ip_address": address,
                     "created": now, "last_updated": now})  # fmt: skip
        if target is not None and sim_id is not None:
            moves.append((states[sim_id].sim, target))
    ids = _insert(session, rows)
    sims.change_status_many(session=session, moves=moves, principal=principal)
    record_many(session=session, events=[event_values(
        org_id=org_id, event_type="Endpoint created",
        description=f"endpoint {row['name']!r} created with IP {row['ip_address']} (bulk)",
        principal=principal, entity_type="endpoint", entity_id=endpoint_id,
    ) for row, endpoint_id in zip(rows, ids, strict=True)])  # fmt: skip
    return ids


# --- PATCH: update -------------------------------------------------------------------------


def load_endpoints(
    session: Session, org_id: int, ids: list[int], problems: Problems
) -> dict[int, Endpoint]:
    """The organisation's endpoints ``ids``; unknown, foreign and repeated ids are problems."""
    stmt = select(Endpoint).where(Endpoint.org_id == org_id, Endpoint.id.in_(sorted(set(ids))))
    found = {row.id: row for row in session.scalars(stmt)}
    seen: set[int] = set()
    for n, endpoint_id in enumerate(ids):
        if endpoint_id not in found:
            problems.add(n, NotFound(f"endpoint {endpoint_id} not found", field="id"))
        elif endpoint_id in seen:
            problems.add(n, InvalidInput(f"endpoint {endpoint_id} is given twice", field="id"))
        seen.add(endpoint_id)
    return found


# --- DELETE --------------------------------------------------------------------------------


def delete_many(
    *, session: Session, org_id: int, ids: list[int], delete_sims: bool,
    principal: Principal | None,
) -> None:  # fmt: skip
    """Delete the endpoints, all or none. Unlike the single DELETE, linked SIMs do not stop
    it (emnify): they are released and suspended, or deleted with ``delete_sims``."""
    problems = Problems("")
    rows = load_endpoints(session, org_id, ids, problems)
    problems.check("endpoints")
    sim_ids = [r.sim_id for r in rows.values() if r.sim_id is not None]
    linked = list(session.scalars(select(Sim).where(Sim.id.in_(sim_ids)))) if sim_ids else []
    addressing.release_many(session=session, addresses=[
        (r.ip_address_space_id, r.ip_address) for r in rows.values()
        if r.ip_address_space_id and r.ip_address])  # fmt: skip
    session.execute(delete(Endpoint).where(Endpoint.id.in_(list(rows))),
                    execution_options={"synchronize_session": False})  # fmt: skip
    for row in rows.values():
        session.expunge(row)
    record_many(session=session, events=[event_values(
        org_id=org_id, event_type="Endpoint deleted",
        description=f"endpoint {row.name!r} deleted (bulk)", principal=principal,
        entity_type="endpoint", entity_id=row.id,
    ) for row in rows.values()])  # fmt: skip
    if delete_sims and linked:
        sims.delete_rows(session=session, org_id=org_id, rows=linked, principal=principal)
        return
    suspend = SimStatus.SUSPENDED
    moves = [(s, suspend) for s in linked if suspend in SIM_TRANSITIONS[SimStatus(s.status)]]
    sims.change_status_many(session=session, moves=moves, principal=principal)
