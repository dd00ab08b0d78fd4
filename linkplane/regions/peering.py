"""Cross-region Transit Gateway peering between two bootstrapped regions.

:func:`peer` requests the peering from the first region's TGW, accepts it in the second,
waits until it is available and adds what the design needs on both sides, each step looked
up before it is made (so a second run changes nothing and says so):

- a ``peering`` route table per region, which every peering attachment of the region is
  associated with; it holds the region's own device pool -> its core attachment, and later
  the customer CIDRs of breakouts attached here for devices that break out elsewhere
  (:mod:`linkplane.attachments.crossregion`), nothing else;
- in each region's ``customers`` table, the peer region's device pool -> the peering, so a
  customer attached here reaches devices that break out there (the peer core's packet policy
  still decides which organisation reaches which device, as for local devices).

What a failed run created is undone in reverse, as bootstrap does (:class:`build.Run`).
:func:`unpeer` takes all of it away, refused while a breakout depends on the peering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.cloud.port import CloudPort, TgwAttachment, TgwRouteTable
from linkplane.db import transaction
from linkplane.errors import Conflict, InvalidInput, LinkplaneError, NotFound
from linkplane.logs import get_logger
from linkplane.network.pools import pool_overlap
from linkplane.regions import build
from linkplane.regions.models import Region, RegionPeering
from linkplane.regions.schemas import PeeringRead, PeerResult
from linkplane.regions.service import check_region_name, installation_of
from linkplane.settings import Settings

log = get_logger(__name__)

#: The breakouts that route over a peering (label per breakout); the attachments feature
#: answers it, the caller passes it in, so regions need not import breakouts.
Dependents = Callable[[Session, str, str], list[str]]


@dataclass
class _Side:
    """One region of the pair: its stored row and its bootstrap-style run."""

    row: Region
    run: build.Run


def find(session: Session, a: str, b: str) -> RegionPeering | None:
    """The peering of ``a`` and ``b``, whichever of them requested it."""
    return session.scalars(
        select(RegionPeering).where(
            or_(
                (RegionPeering.region == a) & (RegionPeering.peer_region == b),
                (RegionPeering.region == b) & (RegionPeering.peer_region == a),
            )
        )
    ).one_or_none()


def _load(factory: sessionmaker[Session], a: str, b: str) -> tuple[Region, Region, str | None]:
    """Both regions' rows (a NotFound saying how to bootstrap) and a stored attachment."""
    with factory() as session:
        rows = {r.name: r for r in session.scalars(select(Region).where(Region.name.in_([a, b])))}
        stored = find(session, a, b)
        for name in (a, b):
            if name not in rows:
                raise NotFound(
                    f"region {name} is not bootstrapped; run: linkplane region bootstrap "
                    f"--region {name}",
                    field="region",
                )
        session.expunge_all()
    return rows[a], rows[b], stored.attachment_id if stored else None


def _check_pair(a: Region, b: Region) -> None:
    if pool_overlap(a.device_cidr, {b.name: b.device_cidr}) is not None:
        raise InvalidInput(
            f"regions {a.name} and {b.name} share device addresses ({a.device_cidr} and "
            f"{b.device_cidr}): a peering could not tell where a device breaks out. Give "
            "each region its own pool in LINKPLANE_REGION_DEVICE_POOLS and run "
            "`linkplane region bootstrap` for both again",
            field="peer_region",
        )


def peer(
    *,
    factory: sessionmaker[Session],
    cloud: CloudPort,
    settings: Settings,
    region: str,
    peer_region: str,
    sleep: Callable[[float], None] | None = None,
) -> PeerResult:
    """Peer ``region`` (requester) with ``peer_region`` (accepter); idempotent."""
    check_region_name(region)
    check_region_name(peer_region, field="peer_region")
    if region == peer_region:
        raise InvalidInput("a region cannot peer with itself", field="peer_region")
    a_row, b_row, stored_id = _load(factory, region, peer_region)
    _check_pair(a_row, b_row)
    cloud.check_reachable()
    settings_installation = installation_of(factory, settings)
    a = _Side(a_row, build.Run(cloud=cloud.for_region(region), region=region,
                                installation=settings_installation))  # fmt: skip
    b = _Side(b_row, build.Run(cloud=cloud.for_region(peer_region), region=peer_region,
                                installation=settings_installation,
                                changes=a.run.changes, _undo=a.run._undo))  # fmt: skip
    if sleep is not None:
        a.run.sleep = b.run.sleep = sleep
    try:
        attachment = _ensure_attachment(a, b, stored_id)
        tables = {s.row.name: _ensure_peering_side(s, attachment) for s in (a, b)}
        _ensure_pool_route(a, b, attachment)
        _ensure_pool_route(b, a, attachment)
        read = _save(factory, a, b, attachment, tables)
    except LinkplaneError:
        failed = a.run.compensate()
        if failed:
            log.error("peering_left_behind", region=region, peer=peer_region, resources=failed)
        raise
    return PeerResult(peering=read, changes=a.run.changes)


def _state(cloud: CloudPort, attachment_id: str) -> str | None:
    found = cloud.describe_attachment(attachment_id)
    return found.state if found else None


def _ensure_attachment(a: _Side, b: _Side, stored_id: str | None) -> TgwAttachment:
    """The live peering of the two TGWs: stored, found, or requested and accepted."""
    cloud_a, cloud_b = a.run.cloud, b.run.cloud
    current = cloud_a.describe_attachment(stored_id) if stored_id else None
    if current is None or current.state in {"deleting", "deleted", "rejected", "failed"}:
        if stored_id:
            a.run.changes.append(f"stored peering {stored_id} no longer exists")
        known = {x.id for x in cloud_a.list_attachments(tgw_id=a.row.tgw_id,
                                                       resource_type="peering")}  # fmt: skip
        current = cloud_a.create_peering_attachment(
            tgw_id=a.row.tgw_id, peer_tgw_id=b.row.tgw_id, peer_region=b.row.name,
            tags=a.run.tags("peering", f"peering-{b.row.name}"),
        )  # fmt: skip
        if current.id not in known:
            attachment_id = current.id
            a.run.created(f"peering {attachment_id} ({a.row.name} - {b.row.name})",
                          lambda: _delete(a.run, attachment_id))  # fmt: skip
    if current.state in {"initiatingRequest", "initiating", "pendingAcceptance", "pending"}:
        a.run.wait(f"peering {current.id}", lambda: _state(cloud_b, current.id),
                   {"pendingAcceptance", "available"})  # fmt: skip
        if _state(cloud_b, current.id) == "pendingAcceptance":
            cloud_b.accept_peering_attachment(current.id)
            a.run.changes.append(f"accepted peering {current.id} in {b.row.name}")
    a.run.wait(f"peering {current.id}", lambda: _state(cloud_a, current.id), {"available"})
    return current


def _delete(run: build.Run, attachment_id: str) -> None:
    run.cloud.delete_peering_attachment(attachment_id)
    run.wait(f"peering {attachment_id}", lambda: _state(run.cloud, attachment_id),
             {None, "deleted"})  # fmt: skip


def _ensure_peering_side(side: _Side, attachment: TgwAttachment) -> TgwRouteTable:
    """The region's peering table, associated with the peering, routing the own pool to
    the core attachment."""
    run, row = side.run, side.row
    tgw = run.cloud.describe_transit_gateway(row.tgw_id)
    if tgw is None:
        raise Conflict(
            f"transit gateway {row.tgw_id} of {row.name} no longer exists; run: linkplane "
            f"region bootstrap --region {row.name}"
        )
    table = build.ensure_route_table(run, tgw=tgw, role="peering")
    _ensure_association(run, table, attachment.id)
    core = TgwAttachment(id=row.core_attachment_id, transit_gateway_id=row.tgw_id,
                         resource_type="vpc", resource_id=row.core_vpc_id,
                         resource_owner_id=row.account_id, state="available")  # fmt: skip
    build.ensure_device_route(run, table=table, attachment=core, device_cidr=row.device_cidr)
    return table


def _ensure_association(run: build.Run, table: TgwRouteTable, attachment_id: str) -> None:
    cloud = run.cloud
    current = cloud.describe_attachment(attachment_id)
    if current and current.association_route_table_id == table.id:
        return
    if current and current.association_route_table_id:
        raise Conflict(
            f"peering {attachment_id} is associated with route table "
            f"{current.association_route_table_id} in {run.region}, not the peering table "
            f"{table.id}; disassociate it and run region peer again"
        )
    cloud.associate_route_table(route_table_id=table.id, attachment_id=attachment_id)
    run.created(
        f"association of {attachment_id} with {table.id}",
        lambda: cloud.disassociate_route_table(route_table_id=table.id,
                                               attachment_id=attachment_id),
    )  # fmt: skip


def _ensure_pool_route(here: _Side, there: _Side, attachment: TgwAttachment) -> None:
    """``here``'s customers table: ``there``'s device pool -> the peering."""
    build.ensure_device_route(
        here.run,
        table=TgwRouteTable(id=here.row.customers_route_table_id,
                            transit_gateway_id=here.row.tgw_id, state="available"),
        attachment=attachment,
        device_cidr=there.row.device_cidr,
    )  # fmt: skip


def _save(
    factory: sessionmaker[Session], a: _Side, b: _Side, attachment: TgwAttachment,
    tables: dict[str, TgwRouteTable],
) -> PeeringRead:  # fmt: skip
    with transaction(factory) as session:
        for name, table in tables.items():
            row = session.scalars(select(Region).where(Region.name == name)).one()
            if row.peering_route_table_id != table.id:
                row.peering_route_table_id = table.id
        peering = find(session, a.row.name, b.row.name)
        if peering is None:
            peering = RegionPeering(region=a.row.name, peer_region=b.row.name,
                                    attachment_id=attachment.id, state="available")  # fmt: skip
            session.add(peering)
            a.run.changes.append(f"recorded peering {a.row.name} - {b.row.name}")
        elif (peering.attachment_id, peering.state) != (attachment.id, "available"):
            peering.attachment_id, peering.state = attachment.id, "available"
            a.run.changes.append(f"updated stored peering {a.row.name} - {b.row.name}")
        session.flush()
        return PeeringRead.model_validate(peering)


def list_peerings(*, session: Session) -> list[PeeringRead]:
    rows = session.scalars(select(RegionPeering).order_by(RegionPeering.id))
    return [PeeringRead.model_validate(r) for r in rows]


def peered_pairs(*, session: Session) -> set[tuple[str, str]]:
    """Both orders of every available peering's regions."""
    pairs: set[tuple[str, str]] = set()
    for p in session.scalars(select(RegionPeering).where(RegionPeering.state == "available")):
        pairs |= {(p.region, p.peer_region), (p.peer_region, p.region)}
    return pairs


def unpeer(
    *,
    factory: sessionmaker[Session],
    cloud: CloudPort,
    settings: Settings,
    region: str,
    peer_region: str,
    dependents: Dependents,
    sleep: Callable[[float], None] | None = None,
) -> list[str]:
    """Remove the peering and its routes (refused while a breakout depends on it).

    The stored peering is marked ``deleting`` before the first AWS change and removed after
    the last: a run that fails or dies in between leaves it so (``region list`` says so, no
    new profile routes over it), and a rerun, each removal of which is a no-op for what is
    gone already, completes it.
    """
    a_row, b_row, stored_id = _load(factory, region, peer_region)
    if stored_id is None:
        raise NotFound(f"regions {region} and {peer_region} are not peered", field="peer_region")
    with factory() as session:
        users = dependents(session, region, peer_region)
    if users:
        raise Conflict(
            f"the peering {region} - {peer_region} carries {len(users)} breakout(s): "
            f"{', '.join(users[:5])}; delete them (or move their devices) first",
            field="peer_region",
        )
    changes: list[str] = []
    if _mark_deleting(factory, region, peer_region):
        changes.append(f"marked peering {region} - {peer_region} as deleting")
    for here, there in ((a_row, b_row), (b_row, a_row)):
        regional = cloud.for_region(here.name)
        regional.delete_static_route(route_table_id=here.customers_route_table_id,
                                     cidr=there.device_cidr)  # fmt: skip
        if here.peering_route_table_id:
            regional.disassociate_route_table(route_table_id=here.peering_route_table_id,
                                              attachment_id=stored_id)  # fmt: skip
        changes.append(f"removed route {there.device_cidr} and the peering's association "
                       f"in {here.name}")  # fmt: skip
    run = build.Run(cloud=cloud.for_region(region), region=region,
                    installation=installation_of(factory, settings))  # fmt: skip
    if sleep is not None:
        run.sleep = sleep
    _delete(run, stored_id)
    changes.append(f"deleted peering {stored_id}")
    with transaction(factory) as session:
        peering = find(session, region, peer_region)
        if peering is not None:
            session.delete(peering)
    return changes


def _mark_deleting(factory: sessionmaker[Session], a: str, b: str) -> bool:
    """Mark the stored peering of ``a`` and ``b`` as being deleted; False if it was."""
    with transaction(factory) as session:
        peering = find(session, a, b)
        if peering is None or peering.state == "deleting":
            return False
        peering.state = "deleting"
        return True
