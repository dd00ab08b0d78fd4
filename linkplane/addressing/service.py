"""IP address spaces and the allocation of endpoint addresses inside them.

Allocation hands out the lowest free host address of a space and never the same address
twice: every allocation first updates its space row (taking that row's write lock on
PostgreSQL, the database write lock on SQLite), so allocators of one space are serialised;
below the space's cursor, released addresses wait in a free-list. Nothing scans addresses.

Cloud Connect breakouts (``linkplane.attachments``) register their CIDRs here with
:func:`register_reserved_cidr_source`, so addressing never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv4Network, ip_network
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from linkplane.addressing.models import FreeAddress, IpAddressSpace
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.tenancy.principal import Principal

#: Smallest and largest space a provider may create (prefix lengths).
MIN_PREFIX, MAX_PREFIX = 16, 30

ReservedCidrSource = Callable[[Session], Iterable[tuple[str, IPv4Network]]]
_reserved_sources: list[ReservedCidrSource] = []


def register_reserved_cidr_source(source: ReservedCidrSource) -> None:
    """Add a source of CIDRs (label, network) that no IP address space may overlap."""
    if source not in _reserved_sources:
        _reserved_sources.append(source)


def reserved_cidrs(*, session: Session) -> list[tuple[str, IPv4Network]]:
    return [item for source in _reserved_sources for item in source(session)]


def parse_cidr(text: str, *, field: str) -> IPv4Network:
    try:
        network = ip_network(text.strip(), strict=True)
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a valid CIDR: {exc}", field=field) from None
    if not isinstance(network, IPv4Network):
        raise InvalidInput("only IPv4 address spaces are supported", field=field)
    return network


def assigned_device_cidrs(*, session: Session) -> list[tuple[int, IPv4Network]]:
    """(org id, CIDR) of every space assigned to an organisation."""
    rows = session.execute(
        select(IpAddressSpace.org_id, IpAddressSpace.cidr).where(IpAddressSpace.org_id.is_not(None))
    )
    return [(int(org_id), IPv4Network(cidr)) for org_id, cidr in rows]


def _all_space_cidrs(session: Session) -> list[IPv4Network]:
    return [IPv4Network(c) for c in session.scalars(select(IpAddressSpace.cidr))]


def ensure_no_overlap_with_device_spaces(
    *, session: Session, cidrs: Iterable[IPv4Network], field: str
) -> None:
    """Refuse CIDRs (e.g. a breakout's VPC CIDRs) overlapping any device IP address space."""
    spaces = _all_space_cidrs(session)
    for cidr in cidrs:
        hit = next((s for s in spaces if s.overlaps(cidr)), None)
        if hit is not None:
            raise InvalidInput(f"{cidr} overlaps the device IP address space {hit}", field=field)


def _check_new_space(
    session: Session, network: IPv4Network, device_cidr: str, org_id: int | None
) -> None:
    field = "ip_address_space"
    pool = IPv4Network(device_cidr)
    if not network.subnet_of(pool):
        raise InvalidInput(f"{network} is not inside the device address space {pool}", field=field)
    if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
        raise InvalidInput(f"prefix length must be /{MIN_PREFIX} to /{MAX_PREFIX}", field=field)
    for label, reserved in reserved_cidrs(session=session):
        if reserved.overlaps(network):
            raise InvalidInput(f"{network} overlaps reserved {reserved} ({label})", field=field)
    hits = [(IPv4Network(cidr), owner) for cidr, owner in session.execute(
        select(IpAddressSpace.cidr, IpAddressSpace.org_id)
    ) if IPv4Network(cidr).overlaps(network)]  # fmt: skip
    if hits:
        # Only the caller's own or the shared pool's spaces are named: another
        # organisation's address space is its business, not the caller's.
        named = [str(n) for n, owner in hits if owner is None or owner == org_id]
        where = f"the IP address space {named[0]}" if named else "an IP address space in use"
        raise Conflict(f"{network} overlaps {where}; choose another range", field=field)


def _record(session: Session, org_id: int, what: str, space: IpAddressSpace, who: Any) -> None:
    record(
        session=session, org_id=org_id, event_type=f"IP address space {what}",
        description=f"IP address space {space.cidr} {what}", principal=who,
        entity_type="ip_address_space", entity_id=space.id,
    )  # fmt: skip


def create_space(
    *, session: Session, device_cidr: str, cidr: str, org_id: int | None = None,
    principal: Principal | None = None,
) -> IpAddressSpace:  # fmt: skip
    """Create a space (in the pool, or assigned to ``org_id``) after the overlap checks."""
    network = parse_cidr(cidr, field="ip_address_space")
    _check_new_space(session, network, device_cidr, org_id)
    space = IpAddressSpace(
        cidr=str(network), ip_version=4, org_id=org_id, next_offset=1, used_count=0
    )
    session.add(space)
    session.flush()
    if org_id is not None:
        _record(session, org_id, "assigned", space, principal)
    return space


def first_free_subnet(*, session: Session, device_cidr: str, prefix: int = 24) -> IPv4Network:
    """The lowest /prefix inside the device CIDR that overlaps no space and nothing reserved."""
    taken = _all_space_cidrs(session) + [n for _, n in reserved_cidrs(session=session)]
    for candidate in IPv4Network(device_cidr).subnets(new_prefix=prefix):
        if not any(candidate.overlaps(t) for t in taken):
            return candidate
    raise Conflict(f"no free /{prefix} left in {device_cidr}", field="ip_address_space")


def list_for_org(*, session: Session, org_id: int) -> list[IpAddressSpace]:
    stmt = select(IpAddressSpace).where(IpAddressSpace.org_id == org_id)
    return list(session.scalars(stmt.order_by(IpAddressSpace.id)))


def list_available(*, session: Session, limit: int = 10) -> list[IpAddressSpace]:
    """Unassigned spaces of the provider's pool, lowest id first (emnify returns 10)."""
    stmt = select(IpAddressSpace).where(IpAddressSpace.org_id.is_(None))
    return list(session.scalars(stmt.order_by(IpAddressSpace.id).limit(limit)))


def get_for_org(*, session: Session, org_id: int, space_id: int) -> IpAddressSpace:
    space = session.get(IpAddressSpace, space_id)
    if space is None or space.org_id != org_id:
        raise NotFound(f"IP address space {space_id} not found", field="ip_address_space")
    return space


def default_space(*, session: Session, org_id: int) -> IpAddressSpace:
    """The organisation's first space: where endpoints get addresses unless told otherwise."""
    stmt = select(IpAddressSpace).where(IpAddressSpace.org_id == org_id)
    space = session.scalars(stmt.order_by(IpAddressSpace.id).limit(1)).first()
    if space is None:
        raise NotFound(
            "your organisation has no IP address space: assign one first",
            field="ip_address_space",
        )
    return space


def assign(
    *, session: Session, org_id: int, space_id: int, principal: Principal | None = None
) -> IpAddressSpace:
    space = session.get(IpAddressSpace, space_id)
    if space is None or (space.org_id is not None and space.org_id != org_id):
        # Another tenant's space is reported like a missing one: ids must not leak.
        raise NotFound(f"IP address space {space_id} not found", field="ip_address_space")
    if space.org_id is None:
        space.org_id = org_id
        _record(session, org_id, "assigned", space, principal)
    return space


def release(
    *, session: Session, org_id: int, space_id: int, principal: Principal | None = None
) -> IpAddressSpace:
    space = get_for_org(session=session, org_id=org_id, space_id=space_id)
    if space.used_count:
        raise Conflict(
            f"IP address space {space.cidr} is used by {space.used_count} endpoint(s)",
            field="ip_address_space",
        )
    space.org_id = None
    _record(session, org_id, "released", space, principal)
    return space


def available_count(space: IpAddressSpace) -> int:
    return _host_count(IPv4Network(space.cidr)) - space.used_count


def _host_count(network: IPv4Network) -> int:
    return max(network.num_addresses - 2, 0)


def _lock_and_count(session: Session, space: IpAddressSpace, delta: int) -> int:
    """Update ``used_count`` by ``delta`` (0 just takes the row's write lock first, before
    anything is read); returns the fresh cursor."""
    stmt = (
        update(IpAddressSpace)
        .where(IpAddressSpace.id == space.id)
        .values(used_count=IpAddressSpace.used_count + delta)
        .returning(IpAddressSpace.next_offset)
    )
    cursor = int(session.execute(stmt).scalar_one())
    session.expire(space, ["used_count", "next_offset"])
    return cursor


def _set_cursor(session: Session, space: IpAddressSpace, cursor: int) -> None:
    session.execute(
        update(IpAddressSpace).where(IpAddressSpace.id == space.id).values(next_offset=cursor)
    )
    session.expire(space, ["next_offset"])


def _take_free(session: Session, space_id: int, offset: int | None = None) -> int | None:
    """Remove and return an offset from the free-list (the lowest one unless given)."""
    if offset is None:
        stmt = select(func.min(FreeAddress.offset)).where(FreeAddress.space_id == space_id)
        offset = session.scalar(stmt)
        if offset is None:
            return None
    gone = session.execute(
        delete(FreeAddress).where(FreeAddress.space_id == space_id, FreeAddress.offset == offset)
    )
    return offset if gone.rowcount == 1 else None  # type: ignore[attr-defined]


def allocate(*, session: Session, space: IpAddressSpace) -> str:
    """The lowest free host address of ``space``, recorded as used in this transaction."""
    network = IPv4Network(space.cidr)
    cursor = _lock_and_count(session, space, 0)
    offset = _take_free(session, space.id)
    if offset is None:
        if cursor > _host_count(network):
            raise NotFound(f"IP address space {network} is full", field="ip_address_space")
        offset = cursor
        _set_cursor(session, space, cursor + 1)
    _lock_and_count(session, space, +1)
    return str(network.network_address + offset)


def _offset_of(network: IPv4Network, address: str) -> int:
    try:
        ip = IPv4Address(address)
    except ValueError:
        raise InvalidInput(f"{address!r} is not an IPv4 address", field="ip_address") from None
    offset = int(ip) - int(network.network_address)
    if not 1 <= offset <= _host_count(network):
        raise InvalidInput(f"{address} is not a host address of {network}", field="ip_address")
    return offset


def reserve(*, session: Session, space: IpAddressSpace, address: str) -> str:
    """Record a caller-chosen address as used; an address already in use -> Conflict."""
    network = IPv4Network(space.cidr)
    offset = _offset_of(network, address)
    cursor = _lock_and_count(session, space, 0)
    if offset >= cursor:
        # Jumping the cursor: the skipped offsets stay free for later allocations.
        session.add_all(FreeAddress(space_id=space.id, offset=o) for o in range(cursor, offset))
        _set_cursor(session, space, offset + 1)
    elif _take_free(session, space.id, offset) is None:
        raise Conflict(f"IP address {address} is already in use", field="ip_address")
    _lock_and_count(session, space, +1)
    return str(network.network_address + offset)


def release_address(*, session: Session, space_id: int, address: str) -> None:
    """Give an endpoint's address back to its space's free-list."""
    space = session.get(IpAddressSpace, space_id)
    if space is None:
        return
    offset = _offset_of(IPv4Network(space.cidr), address)
    _lock_and_count(session, space, -1)
    session.add(FreeAddress(space_id=space_id, offset=offset))


# --- many addresses at once (bulk endpoint requests): a fixed number of statements -------


def allocate_many(*, session: Session, space: IpAddressSpace, count: int) -> list[str]:
    """The ``count`` lowest free host addresses of ``space``, recorded as used, in a fixed
    number of statements whatever ``count`` is (free-list first, then the cursor)."""
    if count <= 0:
        return []
    network = IPv4Network(space.cidr)
    cursor = _lock_and_count(session, space, 0)
    lowest = (
        select(FreeAddress.offset).where(FreeAddress.space_id == space.id)
        .order_by(FreeAddress.offset).limit(count)
    )  # fmt: skip
    reused = list(session.scalars(lowest))
    fresh = count - len(reused)
    if cursor + fresh - 1 > _host_count(network):
        raise NotFound(
            f"IP address space {network} has {available_count(space)} free address(es), "
            f"{count} asked for",
            field="ip_address_space",
        )
    if reused:
        session.execute(
            delete(FreeAddress).where(
                FreeAddress.space_id == space.id, FreeAddress.offset.in_(reused)
            )
        )
    if fresh:
        _set_cursor(session, space, cursor + fresh)
    _lock_and_count(session, space, count)
    offsets = reused + list(range(cursor, cursor + fresh))
    return [str(network.network_address + o) for o in offsets]


def reserve_many(
    *, session: Session, space: IpAddressSpace, addresses: list[str]
) -> dict[str, str]:
    """Record caller-chosen addresses as used, all or none: a map of every address that is
    not a free host address of ``space`` to why (empty when all were reserved)."""
    network = IPv4Network(space.cidr)
    offsets: dict[int, str] = {}
    problems: dict[str, str] = {}
    for address in addresses:
        try:
            offsets[_offset_of(network, address)] = address
        except InvalidInput as exc:
            problems[address] = exc.message
    if problems or not offsets:
        return problems
    cursor = _lock_and_count(session, space, 0)
    below = [o for o in offsets if o < cursor]
    if below:
        free = select(FreeAddress.offset).where(
            FreeAddress.space_id == space.id, FreeAddress.offset.in_(below)
        )
        taken = set(below) - set(session.scalars(free))
        if taken:
            return {offsets[o]: f"IP address {offsets[o]} is already in use" for o in taken}
        session.execute(
            delete(FreeAddress).where(
                FreeAddress.space_id == space.id, FreeAddress.offset.in_(below)
            )
        )
    above = sorted(o for o in offsets if o >= cursor)
    if above:
        # Jumping the cursor: the skipped offsets stay free for later allocations.
        skipped = set(range(cursor, above[-1])) - set(above)
        session.add_all(FreeAddress(space_id=space.id, offset=o) for o in sorted(skipped))
        _set_cursor(session, space, above[-1] + 1)
    _lock_and_count(session, space, len(offsets))
    return {}


def release_many(*, session: Session, addresses: list[tuple[int, str]]) -> None:
    """Give endpoints' addresses (space id, address) back to their spaces' free-lists: one
    update per space and one insert."""
    by_space: dict[int, list[str]] = {}
    for space_id, address in addresses:
        by_space.setdefault(space_id, []).append(address)
    spaces = session.scalars(select(IpAddressSpace).where(IpAddressSpace.id.in_(by_space)))
    for space in spaces:
        network = IPv4Network(space.cidr)
        _lock_and_count(session, space, -len(by_space[space.id]))
        session.add_all(
            FreeAddress(space_id=space.id, offset=_offset_of(network, a))
            for a in by_space[space.id]
        )
