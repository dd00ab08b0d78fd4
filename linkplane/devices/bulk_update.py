"""Bulk endpoint updates (``PATCH /api/v2/endpoint/multi``): every item checked first, then
applied together; references, SIMs and new addresses are read and allocated for all items
at once (see :mod:`linkplane.devices.bulk`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.addressing import service as addressing
from linkplane.addressing.models import IpAddressSpace
from linkplane.db import utcnow
from linkplane.devices import service
from linkplane.devices.bulk import (
    Problems,
    SimState,
    check_sim,
    conflicts,
    load_endpoints,
    load_sims,
)
from linkplane.devices.models import Endpoint
from linkplane.devices.schemas import EndpointBulkUpdate
from linkplane.errors import InvalidInput, LinkplaneError, NotFound
from linkplane.events.service import event_values, record_many
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.sims import service as sims
from linkplane.sims.models import SimStatus
from linkplane.tenancy.principal import Principal


def _owned_ids(session: Session, model: Any, org_id: int, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    stmt = select(model.id).where(model.org_id == org_id, model.id.in_(sorted(ids)))
    return set(session.scalars(stmt))


@dataclass
class _Refs:
    """What the items of a bulk update refer to, loaded once for all of them."""

    service_profiles: set[int]
    tariff_profiles: set[int]
    spaces: dict[int, IpAddressSpace]
    sims: dict[int, SimState]


def _load_refs(session: Session, org_id: int, items: list[EndpointBulkUpdate]) -> _Refs:
    def ids(name: str) -> set[int]:
        return {ref.id for i in items if (ref := getattr(i, name)) is not None and ref.id}

    space_ids = ids("ip_address_space")
    spaces = session.scalars(select(IpAddressSpace).where(
        IpAddressSpace.org_id == org_id, IpAddressSpace.id.in_(sorted(space_ids))))  # fmt: skip
    return _Refs(
        service_profiles=_owned_ids(session, ServiceProfile, org_id, ids("service_profile")),
        tariff_profiles=_owned_ids(session, TariffProfile, org_id, ids("tariff_profile")),
        spaces={s.id: s for s in spaces},
        sims=load_sims(session, org_id, ids("sim")),
    )


def _check_update_item(
    item: EndpointBulkUpdate, org_id: int, refs: _Refs, seen: set[int]
) -> tuple[dict[str, Any], SimStatus | None]:
    service.check_organisation(item.organisation, org_id)
    values = service.scalar_values(item)
    for name, known in (("service_profile", refs.service_profiles),
                        ("tariff_profile", refs.tariff_profiles)):  # fmt: skip
        ref = getattr(item, name)
        if ref is not None:
            if ref.id not in known:
                raise InvalidInput(f"{name.replace('_', ' ')} {ref.id} not found", field=name)
            values[f"{name}_id"] = ref.id
    if item.ip_address_space is not None and item.ip_address_space.id not in refs.spaces:
        raise NotFound(f"IP address space {item.ip_address_space.id} not found",
                       field="ip_address_space")  # fmt: skip
    target = None
    if item.sim is not None:
        target = check_sim(item.sim, refs.sims, item.id, seen)
        values["sim_id"] = item.sim.id
    return values, target


@dataclass(frozen=True)
class _Move:
    index: int
    endpoint: Endpoint
    space: IpAddressSpace
    address: str | None


def _moves(
    items: list[EndpointBulkUpdate], rows: dict[int, Endpoint], refs: _Refs,
    current: dict[int, IpAddressSpace],
) -> list[_Move]:  # fmt: skip
    """The items that change an endpoint's address (as the single PATCH decides it)."""
    moves = []
    for n, item in enumerate(items):
        if not {"ip_address", "ip_address_space"} & item.model_fields_set:
            continue
        endpoint = rows[item.id]
        space_id = item.ip_address_space.id if item.ip_address_space else None
        space_id = space_id or endpoint.ip_address_space_id
        same_space = space_id == endpoint.ip_address_space_id
        if same_space and item.ip_address in (None, endpoint.ip_address):
            continue  # nothing asked but "keep the address"
        space = refs.spaces.get(space_id or 0) or current.get(space_id or 0)
        if space is not None:
            moves.append(_Move(n, endpoint, space, item.ip_address))
    return moves


def _check_pools(
    session: Session, items: list[EndpointBulkUpdate], rows: dict[int, Endpoint],
    problems: Problems,
) -> None:  # fmt: skip
    """Every item that changes a profile or an address leaves its endpoint inside the device
    pool of its profile's breakout region (as the single PATCH does)."""
    for n, item in enumerate(items):
        if {"service_profile", "ip_address", "ip_address_space"} & item.model_fields_set:
            try:
                service.check_breakout_pool(session, rows[item.id])
            except LinkplaneError as exc:
                problems.add(n, exc)
    problems.check("endpoints")


def _readdress(
    session: Session, items: list[EndpointBulkUpdate], rows: dict[int, Endpoint], refs: _Refs,
    problems: Problems,
) -> None:
    """New addresses for the items that ask for one: old ones released together, then per
    target space the chosen ones reserved and the rest allocated."""
    current_ids = {r.ip_address_space_id for r in rows.values() if r.ip_address_space_id}
    current = {s.id: s for s in session.scalars(
        select(IpAddressSpace).where(IpAddressSpace.id.in_(sorted(current_ids))))}  # fmt: skip
    moves = _moves(items, rows, refs, current)
    if not moves:
        return
    addressing.release_many(session=session, addresses=[
        (m.endpoint.ip_address_space_id, m.endpoint.ip_address) for m in moves
        if m.endpoint.ip_address_space_id and m.endpoint.ip_address])  # fmt: skip
    for space in {m.space.id: m.space for m in moves}.values():
        mine = [m for m in moves if m.space.id == space.id]
        chosen = {m.address: m.index for m in mine if m.address}
        refused = addressing.reserve_many(session=session, space=space, addresses=list(chosen))
        for address, why in refused.items():
            problems.add(chosen[address], InvalidInput(why, field="ip_address"))
        problems.check("endpoints")
        auto = [m for m in mine if not m.address]
        fresh = iter(addressing.allocate_many(session=session, space=space, count=len(auto)))
        for m in mine:
            m.endpoint.ip_address_space_id = space.id
            m.endpoint.ip_address = m.address or next(fresh)


def update_many(
    *, session: Session, org_id: int, items: list[EndpointBulkUpdate],
    principal: Principal | None,
) -> None:  # fmt: skip
    """Apply every item's changes or none."""
    problems = Problems("")
    rows = load_endpoints(session, org_id, [i.id for i in items], problems)
    problems.check("endpoints")
    refs = _load_refs(session, org_id, items)
    checked: list[tuple[dict[str, Any], SimStatus | None]] = []
    seen: set[int] = set()
    for n, item in enumerate(items):
        try:
            checked.append(_check_update_item(item, org_id, refs, seen))
        except LinkplaneError as exc:
            problems.add(n, exc)
    problems.check("endpoints")
    moves = []
    for n, (item, (values, target)) in enumerate(zip(items, checked, strict=True)):
        endpoint = rows[item.id]
        for key, value in values.items():
            setattr(endpoint, key, value)
        if endpoint.imei_lock and not endpoint.imei:
            problems.add(n, InvalidInput("imei_lock needs an imei to lock to", field="imei_lock"))
        if target is not None and endpoint.sim_id is not None:
            moves.append((refs.sims[endpoint.sim_id].sim, target))
    problems.check("endpoints")
    _readdress(session, items, rows, refs, problems)
    _check_pools(session, items, rows, problems)
    now = utcnow()
    for endpoint in rows.values():
        endpoint.last_updated = now
    with conflicts():
        session.flush()
    sims.change_status_many(session=session, moves=moves, principal=principal)
    record_many(session=session, events=[event_values(
        org_id=org_id, event_type="Endpoint updated",
        description=f"endpoint {rows[item.id].name!r} updated (bulk): "
                    + ", ".join(sorted(item.model_fields_set - {"id"})),
        principal=principal, entity_type="endpoint", entity_id=item.id,
        detail=item.model_dump(exclude_unset=True, exclude={"id"}),
    ) for item in items])  # fmt: skip
