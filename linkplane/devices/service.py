"""Endpoints of one organisation: CRUD, listing, the SIM link and the endpoint's IP address.

Creating or re-addressing an endpoint allocates its IP in the same transaction (see
``linkplane.addressing.service``); deleting it returns the address to the free-list.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkplane.addressing import service as addressing
from linkplane.addressing.models import IpAddressSpace
from linkplane.db import utcnow
from linkplane.devices import listing
from linkplane.devices.models import SETTABLE_ENDPOINT_STATUSES, Endpoint, EndpointStatus
from linkplane.devices.schemas import (
    BulkEndpointIn,
    EndpointCreate,
    EndpointUpdate,
    IdRef,
    SimLink,
)
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.models import Event
from linkplane.events.service import record
from linkplane.ids import ascii_digits
from linkplane.profiles import regions as profile_regions
from linkplane.profiles import service as profiles
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.profiles.regions import Pool
from linkplane.sims import service as sims
from linkplane.sims.models import Sim, SimStatus
from linkplane.tenancy.principal import Principal

FILTERS = {
    "id": listing.FilterField(Endpoint.id, listing.parse_int),
    "status": listing.FilterField(Endpoint.status, listing.parse_int),
    "name": listing.FilterField(Endpoint.name, contains=True),
    "tags": listing.FilterField(Endpoint.tags, contains=True),
    "ip_address": listing.FilterField(Endpoint.ip_address),
    "imei": listing.FilterField(Endpoint.imei),
    "service_profile": listing.FilterField(Endpoint.service_profile_id, listing.parse_int),
    "tariff_profile": listing.FilterField(Endpoint.tariff_profile_id, listing.parse_int),
    "iccid": listing.FilterField(Sim.iccid),
    "imsi": listing.FilterField(Sim.imsi),
    "sim_status": listing.FilterField(Sim.status, listing.parse_int),
}
SIM_FILTERS = frozenset({"iccid", "imsi", "sim_status"})
SORTS = {
    "id": Endpoint.id,
    "status": Endpoint.status,
    "name": Endpoint.name,
    "tags": Endpoint.tags,
    "ip_address": Endpoint.ip_address,
    "imei": Endpoint.imei,
    "created": Endpoint.created,
    "last_updated": Endpoint.last_updated,
}
#: Allocation races are prevented by the space row lock; this bounds the safety-net retry.
ALLOCATION_ATTEMPTS = 3


@dataclass(frozen=True)
class EndpointView:
    endpoint: Endpoint
    service_profile_name: str
    tariff_profile_name: str
    sim: Sim | None


def _view_select() -> Select[tuple[Endpoint, str, str, Sim]]:
    return (
        select(Endpoint, ServiceProfile.name, TariffProfile.name, Sim)
        .join(ServiceProfile, ServiceProfile.id == Endpoint.service_profile_id)
        .join(TariffProfile, TariffProfile.id == Endpoint.tariff_profile_id)
        .outerjoin(Sim, Sim.id == Endpoint.sim_id)
    )


def _keys(org_id: int, q: str | None) -> Select[tuple[int]]:
    """Ids of the organisation's endpoints matching ``q``; joins SIM only when ``q`` needs it."""
    stmt = select(Endpoint.id).where(Endpoint.org_id == org_id)
    if listing.field_names(q) & SIM_FILTERS:
        stmt = stmt.outerjoin(Sim, Sim.id == Endpoint.sim_id)
    return stmt.where(*listing.filters(q, FILTERS))


def list_endpoints(
    *, session: Session, org_id: int, offset: int, limit: int, q: str | None = None,
    sort: str | None = None,
) -> tuple[list[EndpointView], int]:  # fmt: skip
    keys = _keys(org_id, q)
    order = listing.ordering(sort, SORTS, Endpoint.id)
    ids, total = listing.page(session, keys, order, offset, limit)
    return views(session, org_id, ids), total


def views(session: Session, org_id: int, ids: list[int]) -> list[EndpointView]:
    """The endpoints ``ids`` with their profile names and SIM, in the order of ``ids``.

    One joined statement by primary key, so a page costs the same whatever its depth; an id
    deleted since the page was chosen (another transaction) is left out, not an error. The
    organisation is checked on the loaded rows, not in SQL: with ``org_id = $1`` in the
    statement, PostgreSQL's generic plan for a prepared statement (psycopg prepares from the
    fifth run) walks the (org_id, id) index of the whole organisation instead of the 100 keys.
    """
    if not ids:
        return []
    rows = session.execute(_view_select().where(Endpoint.id.in_(ids)))
    found = {row[0].id: EndpointView(*row) for row in rows if row[0].org_id == org_id}
    return [found[i] for i in ids if i in found]


def get(*, session: Session, org_id: int, endpoint_id: int) -> EndpointView:
    stmt = _view_select().where(Endpoint.org_id == org_id, Endpoint.id == endpoint_id)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"endpoint {endpoint_id} not found", field="endpoint")
    return EndpointView(*row)


def get_row(*, session: Session, org_id: int, endpoint_id: int) -> Endpoint:
    endpoint = session.get(Endpoint, endpoint_id)
    if endpoint is None or endpoint.org_id != org_id:
        raise NotFound(f"endpoint {endpoint_id} not found", field="endpoint")
    return endpoint


def checked_status(value: int) -> int:
    """An endpoint status a client may set (Deleted is reached only by DELETE)."""
    try:
        status = EndpointStatus(value)
    except ValueError:
        status = None
    if status not in SETTABLE_ENDPOINT_STATUSES:
        raise InvalidInput(
            f"endpoint status {value} cannot be set; use 0 (Enabled) or 1 (Disabled), "
            "and DELETE to delete",
            field="status",
        )
    return int(value)


def _imei(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not (ascii_digits(value) and len(value) in (15, 16)):
        raise InvalidInput("imei must be 15 digits 0-9 (IMEI) or 16 (IMEISV)", field="imei")
    return value


def profile_ids(
    session: Session, org_id: int, service_profile: IdRef | None, tariff_profile: IdRef | None
) -> dict[str, int]:
    """Profile references of the request, each checked to belong to the organisation."""
    ids: dict[str, int] = {}
    for field, getter, ref in (
        ("service_profile", profiles.get_service_profile, service_profile),
        ("tariff_profile", profiles.get_tariff_profile, tariff_profile),
    ):
        if ref is None:
            continue
        try:
            ids[f"{field}_id"] = getter(session=session, org_id=org_id, profile_id=ref.id).id
        except NotFound as exc:
            raise InvalidInput(exc.message, field=field) from None
    return ids


def _link_sim(session: Session, org_id: int, endpoint_id: int | None, sim_id: int) -> int:
    """The SIM id to link, refused if it is not the caller's or already linked elsewhere."""
    try:
        sim = sims.get_for_link(session=session, org_id=org_id, sim_id=sim_id)
    except NotFound as exc:
        raise InvalidInput(exc.message, field="sim") from None
    holder = session.scalar(select(Endpoint.id).where(Endpoint.sim_id == sim.id))
    if holder is not None and holder != endpoint_id:
        raise Conflict(f"SIM {sim_id} is already linked to endpoint {holder}", field="sim")
    return sim.id


def sim_target(link: SimLink) -> SimStatus | None:
    """The SIM status the request asks for: an explicit ``status`` wins over ``activate``."""
    if link.status is not None:
        return sims.parse_status(link.status.id, field="sim.status")
    return SimStatus.ACTIVATED if link.activate else None


def _apply_sim_status(
    session: Session, endpoint: Endpoint, link: SimLink | None, principal: Principal | None
) -> None:
    """Move the endpoint's SIM to the status asked for with it (emnify's "create and
    activate" flow); an illegal transition is refused naming ``sim.status``."""
    target = None if link is None else sim_target(link)
    if target is None:
        return
    sim = session.get(Sim, endpoint.sim_id) if endpoint.sim_id is not None else None
    if sim is None:
        raise InvalidInput("a SIM status needs a SIM: give sim.id", field="sim.status")
    try:
        sims.change_status(session=session, sim=sim, target=target, principal=principal)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="sim.status") from None


def check_organisation(ref: IdRef | None, org_id: int) -> None:
    """linkplane has no child organisations: only the caller's own may be named."""
    if ref is not None and ref.id != org_id:
        raise NotFound(f"organisation {ref.id} not found", field="organisation.id")


def space_for(
    session: Session, org_id: int, ref: IdRef | None, pool: Pool | None = None
) -> IpAddressSpace:
    """The space asked for, or the organisation's first; inside ``pool`` (the device pool of
    the service profile's breakout region) when there is one."""
    if ref is None:
        if pool is None:
            return addressing.default_space(session=session, org_id=org_id)
        return _default_space_in(session, org_id, pool)
    space = addressing.get_for_org(session=session, org_id=org_id, space_id=ref.id)
    if pool is not None and not IPv4Network(space.cidr).subnet_of(pool.network):
        raise InvalidInput(
            f"IP address space {space.cidr} is not in the device pool {pool.network} of "
            f"{pool.region}, where the endpoint's service profile breaks out; pick a space "
            "inside that pool",
            field="ip_address_space",
        )
    return space


def _default_space_in(session: Session, org_id: int, pool: Pool) -> IpAddressSpace:
    for space in addressing.list_for_org(session=session, org_id=org_id):
        if IPv4Network(space.cidr).subnet_of(pool.network):
            return space
    raise InvalidInput(
        f"your organisation has no IP address space in the device pool {pool.network} of "
        f"{pool.region}, where the endpoint's service profile breaks out; assign one inside it",
        field="ip_address_space",
    )


def check_breakout_pool(session: Session, endpoint: Endpoint) -> None:
    """Refuse an endpoint whose address is outside its profile's breakout region pool (a
    changed profile): its traffic would be routed to the wrong region."""
    pool = profile_regions.pool_of_profile(session, endpoint.service_profile_id)
    if pool is not None and endpoint.ip_address and not pool.holds(endpoint.ip_address):
        raise InvalidInput(
            f"the endpoint's address {endpoint.ip_address} is not in the device pool "
            f"{pool.network} of {pool.region}, where its service profile breaks out; give "
            "ip_address_space (a space inside that pool) in the same request",
            field="service_profile",
        )


def _assign_address(
    session: Session, space: IpAddressSpace, address: str | None
) -> tuple[int, str]:
    if address:
        return space.id, addressing.reserve(session=session, space=space, address=address)
    return space.id, addressing.allocate(session=session, space=space)


def field_of(exc: IntegrityError) -> str:
    """The request field a unique constraint hit is about."""
    text = str(exc.orig)
    if "sim_id" in text:
        return "sim"
    if "ip_address" in text or "space" in text:
        return "ip_address"
    return "endpoint"


def _flush(session: Session, endpoint: Endpoint) -> None:
    """Insert/update inside a savepoint so a constraint hit leaves the transaction usable."""
    try:
        with session.begin_nested():
            session.add(endpoint)
            session.flush()
    except IntegrityError as exc:
        field = field_of(exc)
        raise Conflict(f"{field} is already in use by another endpoint", field=field) from None


def scalar_values(data: EndpointUpdate | BulkEndpointIn) -> dict[str, Any]:
    """The plain columns a request sets, checked (imei format, settable status)."""
    values = data.model_dump(exclude_unset=True, include={"name", "tags", "imei_lock"})
    if "name" in values and values["name"] is None:
        values["name"] = ""
    if "imei_lock" in values and values["imei_lock"] is None:
        values["imei_lock"] = False
    if "imei" in data.model_fields_set:
        values["imei"] = _imei(data.imei)
    status = getattr(data, "status", None)
    if status is not None:
        values["status"] = checked_status(status.id)
    return values


def _profiles_of(session: Session, org_id: int, data: EndpointUpdate) -> dict[str, int]:
    return profile_ids(session, org_id, data.service_profile, data.tariff_profile)


def _check_imei_lock(endpoint: Endpoint) -> None:
    if endpoint.imei_lock and not endpoint.imei:
        raise InvalidInput("imei_lock needs an imei to lock to", field="imei_lock")


def create(
    *, session: Session, org_id: int, data: EndpointCreate, principal: Principal | None = None
) -> Endpoint:
    check_organisation(data.organisation, org_id)
    if data.ip_address and data.ip_address_space is None:
        raise InvalidInput("ip_address needs ip_address_space as well", field="ip_address_space")
    values = {**scalar_values(data), **_profiles_of(session, org_id, data)}
    endpoint = Endpoint(org_id=org_id, **values)
    _check_imei_lock(endpoint)
    if data.sim is not None and data.sim.id is not None:
        endpoint.sim_id = _link_sim(session, org_id, None, data.sim.id)
    pool = profile_regions.pool_of_profile(session, endpoint.service_profile_id)
    space = space_for(session, org_id, data.ip_address_space, pool)
    for attempt in range(ALLOCATION_ATTEMPTS):
        endpoint.ip_address_space_id, endpoint.ip_address = _assign_address(
            session, space, data.ip_address
        )
        try:
            _flush(session, endpoint)
            break
        except Conflict as exc:
            if exc.field != "ip_address" or data.ip_address or attempt + 1 == ALLOCATION_ATTEMPTS:
                raise
    _apply_sim_status(session, endpoint, data.sim, principal)
    record(
        session=session, org_id=org_id, event_type="Endpoint created",
        description=f"endpoint {endpoint.name!r} created with IP {endpoint.ip_address}",
        principal=principal, entity_type="endpoint", entity_id=endpoint.id,
    )  # fmt: skip
    return endpoint


def _readdress(session: Session, endpoint: Endpoint, data: EndpointUpdate) -> None:
    space_id = data.ip_address_space.id if data.ip_address_space else endpoint.ip_address_space_id
    if space_id == endpoint.ip_address_space_id and data.ip_address == endpoint.ip_address:
        return
    if data.ip_address is None and space_id == endpoint.ip_address_space_id:
        return  # nothing asked but "keep the address"
    pool = profile_regions.pool_of_profile(session, endpoint.service_profile_id)
    ref = IdRef(id=space_id) if space_id else None
    space = space_for(session, endpoint.org_id, ref, pool)
    _release(session, endpoint)
    endpoint.ip_address_space_id, endpoint.ip_address = _assign_address(
        session, space, data.ip_address
    )


def _release(session: Session, endpoint: Endpoint) -> None:
    if endpoint.ip_address_space_id is not None and endpoint.ip_address is not None:
        addressing.release_address(
            session=session, space_id=endpoint.ip_address_space_id, address=endpoint.ip_address
        )
        endpoint.ip_address_space_id = endpoint.ip_address = None
        session.flush()


def update(
    *, session: Session, org_id: int, endpoint_id: int, data: EndpointUpdate,
    principal: Principal | None = None,
) -> Endpoint:  # fmt: skip
    endpoint = get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    check_organisation(data.organisation, org_id)
    changes = {**scalar_values(data), **_profiles_of(session, org_id, data)}
    if data.sim is not None:
        sim_id = data.sim.id
        linked = None if sim_id is None else _link_sim(session, org_id, endpoint.id, sim_id)
        changes["sim_id"] = linked
    for key, value in changes.items():
        setattr(endpoint, key, value)
    _check_imei_lock(endpoint)
    if {"ip_address", "ip_address_space"} & data.model_fields_set:
        _readdress(session, endpoint, data)
    if {"service_profile", "ip_address", "ip_address_space"} & data.model_fields_set:
        check_breakout_pool(session, endpoint)
    endpoint.last_updated = utcnow()
    _flush(session, endpoint)
    _apply_sim_status(session, endpoint, data.sim, principal)
    fields = ", ".join(sorted(data.model_fields_set))
    record(
        session=session, org_id=org_id, event_type="Endpoint updated",
        description=f"endpoint {endpoint.name!r} updated: {fields}",
        principal=principal, entity_type="endpoint", entity_id=endpoint.id,
        detail=data.model_dump(exclude_unset=True),
    )  # fmt: skip
    return endpoint


def delete(
    *, session: Session, org_id: int, endpoint_id: int, principal: Principal | None = None
) -> None:
    """Delete an endpoint without a SIM (emnify: 409 while a SIM is assigned)."""
    endpoint = get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    if endpoint.sim_id is not None:
        raise Conflict(
            f"endpoint {endpoint_id} still has SIM {endpoint.sim_id}: unlink it first "
            '(PATCH {"sim": {"id": null}})',
            field="sim",
        )
    _release(session, endpoint)
    session.delete(endpoint)
    record(
        session=session, org_id=org_id, event_type="Endpoint deleted",
        description=f"endpoint {endpoint.name!r} deleted", principal=principal,
        entity_type="endpoint", entity_id=endpoint_id,
    )  # fmt: skip


def list_events(
    *, session: Session, org_id: int, endpoint_id: int, offset: int, limit: int
) -> tuple[list[Event], int, str | None]:
    """Audit events of one endpoint (newest first), their total, and the endpoint's name.

    An unknown or another tenant's endpoint is 404 (emnify answers 200 []; linkplane's rule
    that foreign ids are 404 everywhere wins).
    """
    get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    base = select(Event).where(
        Event.org_id == org_id, Event.entity_type == "endpoint", Event.entity_id == endpoint_id
    )
    total = listing.count(session, base)
    events = list(session.scalars(base.order_by(Event.id.desc()).offset(offset).limit(limit)))
    name = session.scalar(
        select(Endpoint.name).where(Endpoint.org_id == org_id, Endpoint.id == endpoint_id)
    )
    return events, total, name
