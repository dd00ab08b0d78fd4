"""Breakout services: validation, the tenant-scoped reads, and every state change.

Every function works inside the caller's session and starts no workflow. Transports (API,
portal; the CLI through the API) read through these, and change breakouts through
:mod:`linkplane.attachments.commands`, which commits the write and then starts or signals
the workflow. The workflows call :func:`transition` and the ``record_*`` helpers so that
every state change is checked against :data:`~linkplane.attachments.models.TRANSITIONS` and
leaves an event row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from linkplane.attachments import crossregion, vpn
from linkplane.attachments.models import (
    BGP_TYPES,
    PROVISIONED_TYPES,
    PROVISIONING,
    STATUS_DESCRIPTION,
    TRANSITIONS,
    VPN_TYPES,
    Breakout,
    BreakoutCidr,
    BreakoutType,
    Status,
)
from linkplane.attachments.regions import RegionInfo, bootstrapped_regions, region_info
from linkplane.attachments.schemas import BreakoutTgwCreate, BreakoutVpnCreate
from linkplane.db import utcnow
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events import service as events
from linkplane.events.models import Event
from linkplane.network import cidrs as cidr_rules
from linkplane.settings import ACCOUNT_ID_RE, Settings
from linkplane.tenancy.principal import Principal

ENTITY = "breakout"
#: Statuses whose CIDRs occupy the TGW (everything but a final or expired breakout).
LIVE = frozenset(set(Status) - {Status.DEACTIVATED})


class DeleteAction(StrEnum):
    """What the caller must do after :func:`request_delete` committed."""

    SIGNAL_WORKFLOW = "signal"  # the provisioning workflow runs: wake it, it tears down
    START_TEARDOWN = "teardown"  # nothing runs: start the deletion workflow


# --- what a breakout allows now (the writes below and the portal's buttons) -----------------
def _retry_refusal(row: Breakout) -> str | None:
    if row.type_id != BreakoutType.TGW or row.status is not Status.PENDING_AWS_ACTIVATION:
        return "only an expired Transit Gateway breakout in status 2 can be retried"
    if not row.expired:
        return f"breakout {row.id} has not expired; nothing to retry"
    return None


def retryable(row: Breakout) -> bool:
    """An expired TGW breakout (status 2, ``expired``): PATCH may start revision+1."""
    return _retry_refusal(row) is None


def deletable(row: Breakout) -> bool:
    """Neither final nor rolling back (a repeated delete of a deleting one is accepted)."""
    return row.status not in (Status.DEACTIVATED, Status.ROLLING_BACK)


def recheckable(row: Breakout) -> bool:
    """Its workflow waits for the customer (status 1 or 2, not expired, not being deleted)."""
    waiting = (Status.PENDING_CUSTOMER_ACTION, Status.PENDING_AWS_ACTIVATION)
    return row.status in waiting and not row.expired and not row.delete_requested


# --- reads ----------------------------------------------------------------------------------
def get_breakout(*, session: Session, org_id: int, breakout_id: int) -> Breakout:
    """The breakout if it belongs to ``org_id``; another tenant's is indistinguishable: 404."""
    row = session.get(Breakout, breakout_id)
    if row is None or row.org_id != org_id:
        raise NotFound(f"breakout {breakout_id} not found")
    return row


def list_breakouts(
    *,
    session: Session,
    org_id: int,
    status_id: int | None = None,
    type_id: int | None = None,
    hide_deactivated: bool = False,
    offset: int = 0,
    limit: int = 1000,
) -> tuple[list[Breakout], int]:
    """A page of the organisation's breakouts, newest first, and the total count.

    ``hide_deactivated`` leaves out deleted (Deactivated) ones, as emnify's list does when
    no status is asked for.
    """
    stmt = select(Breakout).where(Breakout.org_id == org_id)
    if status_id is not None:
        stmt = stmt.where(Breakout.status_id == status_id)
    elif hide_deactivated:
        stmt = stmt.where(Breakout.status_id != Status.DEACTIVATED)
    if type_id is not None:
        stmt = stmt.where(Breakout.type_id == type_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Breakout.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), int(total)


def history(*, session: Session, org_id: int, breakout_id: int) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.org_id == org_id, Event.entity_type == ENTITY)
        .where(Event.entity_id == breakout_id)
        .order_by(Event.id)
    )
    return list(session.scalars(stmt).all())


def available_pairs(*, session: Session, type_id: int) -> list[tuple[str, str]]:
    """(attachment region, device breakout region) pairs a breakout of ``type_id`` can use:
    each bootstrapped region with itself, and both orders of every peered pair."""
    names = {r.name for r in available_regions(session=session, type_id=type_id)}
    # TGW and VPN breakouts alike serve a peered region's devices over the peering.
    return [p for p in crossregion.available_pairs(session) if p[0] in names]


def available_regions(*, session: Session, type_id: int) -> list[RegionInfo]:
    """Where a breakout of ``type_id`` can be created: the bootstrapped regions for TGW and
    the VPN types (every VPN ends on the region's TGW), none for the types linkplane cannot
    provision yet; an unknown type is a 404."""
    if type_id not in {t.value for t in BreakoutType}:
        raise NotFound(f"breakout type {type_id} not found", field="breakout_type_id")
    if type_id not in PROVISIONED_TYPES:
        return []
    return bootstrapped_regions(session=session)


# --- validation -----------------------------------------------------------------------------
def _check_type(type_id: int | None) -> None:
    if type_id is None or type_id == BreakoutType.TGW:
        return
    if type_id in {t.value for t in BreakoutType}:
        raise InvalidInput(
            f"breakout type {type_id} ({BreakoutType(type_id).name}) is not supported yet; "
            "only Transit Gateway (type 1) breakouts can be created",
            field="type",
        )
    raise InvalidInput(f"unknown breakout type {type_id}; use 1 (Transit Gateway)", field="type")


def _check_account(session: Session, settings: Settings, account_id: str) -> None:
    if not ACCOUNT_ID_RE.match(account_id):
        raise InvalidInput(
            f"{account_id!r} is not an AWS account id; it has exactly 12 digits 0-9",
            field="aws_account_id",
        )
    from linkplane.regions.models import Region

    # The provider's own account owns the TGWs: sharing a TGW with it or routing its VPCs as
    # a customer's would bypass the isolation between customers.
    provider = {settings.provider_account_id, *session.scalars(select(Region.account_id))}
    if account_id in provider:
        raise InvalidInput(
            f"{account_id} is the connectivity provider's own AWS account; give the id of "
            "the AWS account that owns your VPC",
            field="aws_account_id",
        )


def _check_region(session: Session, settings: Settings, name: str) -> RegionInfo:
    from linkplane.settings import KNOWN_REGIONS

    if name not in KNOWN_REGIONS:
        raise InvalidInput(f"unknown region {name!r}", field="region")
    info = region_info(session=session, name=name)
    if info is None:
        raise InvalidInput(
            f"region {name} is not available for Cloud Connect: it has not been bootstrapped; "
            "GET /api/v1/cnc/breakout_type/1/available_region lists the available ones",
            field="region",
        )
    return info


@dataclass(frozen=True)
class _LiveRange:
    """One CIDR of another live breakout that may clash with a request: not its whole row."""

    id: int
    org_id: int
    cidr: str


def _regions_sharing(session: Session, region: str) -> list[str]:
    # Breakouts of peered regions count too: their CIDRs may be routed in this region's
    # tables for devices that break out here (linkplane.attachments.crossregion).
    return [region, *crossregion.peered_regions(session, region)]


def _live_cidrs(stmt: Select[Any], regions: list[str], exclude_id: int | None) -> Select[Any]:
    stmt = stmt.join(Breakout, Breakout.id == BreakoutCidr.breakout_id)
    stmt = stmt.where(Breakout.region.in_(regions))
    stmt = stmt.where(Breakout.status_id.in_([s.value for s in LIVE]))
    stmt = stmt.where(Breakout.expired.is_(False))
    if exclude_id is not None:
        stmt = stmt.where(Breakout.id != exclude_id)
    return stmt


def _may_overlap(net: IPv4Network) -> ColumnElement[bool]:
    """Rows whose range overlaps ``net``. Blocks overlap only by containment: a supernet is
    one of 33 exact (start, prefix length) keys, a subnet starts inside ``net``."""
    start, end = int(net.network_address), int(net.broadcast_address)
    supernets = [(start & ((0xFFFFFFFF << (32 - p)) & 0xFFFFFFFF), p)
                 for p in range(net.prefixlen + 1)]  # fmt: skip
    key = tuple_(BreakoutCidr.start, BreakoutCidr.prefixlen)
    return or_(key.in_(supernets), BreakoutCidr.start.between(start, end))


def _live_clashing(
    session: Session, regions: list[str], cidrs: list[str], exclude_id: int | None
) -> list[_LiveRange]:
    # An index lookup per requested CIDR, not a read of every live breakout: filling 10,000
    # parked breakouts was quadratic with the latter.
    nets = [net for net in map(_lenient_network, cidrs) if net is not None]
    if not nets:
        return []
    stmt = select(Breakout.id, Breakout.org_id, BreakoutCidr.cidr).select_from(BreakoutCidr)
    stmt = _live_cidrs(stmt, regions, exclude_id).where(or_(*map(_may_overlap, nets)))
    return [_LiveRange(i, o, c) for i, o, c in session.execute(stmt)]


def _lenient_network(text: object) -> IPv4Network | None:
    # The strict per-element checks (and their messages) stay in validate_breakout_cidrs;
    # a malformed element has nothing to look up.
    try:
        return IPv4Network(str(text), strict=False)
    except ValueError:
        return None


def _live_cidr_count(session: Session, regions: list[str], exclude_id: int | None) -> int:
    stmt = _live_cidrs(select(func.count()).select_from(BreakoutCidr), regions, exclude_id)
    return int(session.execute(stmt).scalar_one())


def _store_cidrs(session: Session, row: Breakout, nets: list[IPv4Network]) -> None:
    session.add_all(
        BreakoutCidr(breakout_id=row.id, position=i, cidr=str(net),
                     start=int(net.network_address), prefixlen=net.prefixlen)
        for i, net in enumerate(nets)
    )  # fmt: skip


def _device_cidrs(session: Session, settings: Settings) -> list[str]:
    from linkplane.addressing.service import assigned_device_cidrs

    spaces: list[str] = [settings.device_cidr]
    spaces.extend(str(net) for _org, net in assigned_device_cidrs(session=session))
    return spaces


def _named(other: _LiveRange, org_id: int | None) -> cidr_rules.NamedRange:
    if other.org_id == org_id:
        return cidr_rules.breakout_ranges(f"breakout {other.id}", [other.cidr])[0]
    hidden = "a range another organisation uses on this transit gateway or a peered one"
    return cidr_rules.NamedRange.of(hidden, other.cidr)


def _on_the_tgw(
    session: Session,
    settings: Settings,
    region: RegionInfo,
    cidrs: list[str],
    exclude_id: int | None,
    org_id: int | None,
) -> tuple[list[cidr_rules.NamedRange], int]:
    """What ``cidrs`` must not overlap (only the live CIDRs that might), and routes in use."""
    regions = _regions_sharing(session, region.name)
    device_cidrs = _device_cidrs(session, settings)
    existing = cidr_rules.reserved_ranges(
        device_cidrs=device_cidrs, core_vpc_cidr=region.core_vpc_cidr
    )
    existing += [_named(o, org_id) for o in _live_clashing(session, regions, cidrs, exclude_id)]
    # Customers-table routes to the device spaces and the core VPC's own also count.
    in_use = _live_cidr_count(session, regions, exclude_id) + len(device_cidrs) + 1
    return existing, in_use


def validate_cidrs(
    *,
    session: Session,
    settings: Settings,
    region: RegionInfo,
    cidrs: list[str],
    exclude_id: int | None = None,
    org_id: int | None = None,
    field: str = cidr_rules.FIELD,
) -> list[IPv4Network]:
    """The full CIDR check of a breakout on ``region``'s TGW (field-named 422 on failure).

    The TGW is shared by every organisation, so the check covers all of them; a clash with
    another organisation's breakout (any, when ``org_id`` is None) names neither its id nor
    its range: the caller learns only that the range is taken.
    """
    limits = cidr_rules.CidrLimits.from_settings(settings)
    try:
        cidr_rules.check_count(cidrs, limits)  # before the lookup: it bounds the query's size
        existing, in_use = _on_the_tgw(session, settings, region, cidrs, exclude_id, org_id)
        return cidr_rules.validate_breakout_cidrs(
            cidrs,
            existing=existing,
            limits=limits,
            routes_in_use=in_use,
            route_quota=settings.tgw_route_quota,
        )
    except InvalidInput as exc:
        if field == cidr_rules.FIELD or not exc.field:
            raise
        # The same rules name the request's own field (VPN: on_prem_cidr[i]).
        renamed = field + exc.field.removeprefix(cidr_rules.FIELD)
        raise InvalidInput(exc.message, field=renamed) from None


def lock_region(session: Session, region: str) -> None:
    """Serialise CIDR validation + insert on one TGW until this transaction ends.

    Two creates that both validated before either inserted could put overlapping CIDRs on
    the same core table. PostgreSQL: a row lock on the region (``SELECT ... FOR UPDATE``).
    SQLite has one writer: a first (no-op) write takes its write lock at once, like ``BEGIN
    IMMEDIATE``, and the other creator waits for it (busy timeout) before it reads anything.
    Call it before the validation reads: they must see what the previous holder committed.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE region SET name = name WHERE name = :r"), {"r": region})
        return
    from linkplane.regions.models import Region

    session.execute(select(Region.id).where(Region.name == region).with_for_update())


def _check_account_free(session: Session, region: str, account_id: str, org_id: int) -> None:
    """One waiting breakout per account, region *and organisation*.

    Within one organisation two waiting breakouts of one account would make its attachment
    ambiguous. Across organisations the account decides: each breakout has its own resource
    share, and only the breakout whose invitation the account accepts goes on to wait for an
    attachment (docs/cloud-connect.md, "One AWS account, several organisations"). So another
    organisation's claim on the account blocks nobody, and is never named here.
    """
    stmt = select(Breakout.id).where(
        Breakout.org_id == org_id,
        Breakout.region == region,
        Breakout.aws_account_id == account_id,
        Breakout.status_id.in_([s.value for s in PROVISIONING]),
        Breakout.expired.is_(False),
    )
    waiting = session.scalars(stmt.limit(1)).first()
    if waiting is not None:
        raise Conflict(
            f"your breakout {waiting} for account {account_id} in {region} is still being "
            "provisioned; wait until it is Active or delete it first",
            field="aws_account_id",
        )


def attachment_turn(session: Session, breakout_id: int) -> bool:
    """May this breakout claim its account's pending attachment now?

    Breakouts of several organisations can wait for an attachment of the same account in one
    region when the account accepted each one's invitation. An attachment does not say whose
    it is, so they take turns: the one that entered Pending AWS Activation first (then the
    lowest id) claims the next attachment; the others wait until it has one.
    """
    row = session.get(Breakout, breakout_id)
    if row is None:
        return False
    rivals = select(Breakout.id, Breakout.accept_attachment_expiry_date).where(
        Breakout.id != row.id,
        Breakout.region == row.region,
        Breakout.aws_account_id == row.aws_account_id,
        Breakout.status_id == Status.PENDING_AWS_ACTIVATION,
        Breakout.attachment_id.is_(None),
        Breakout.expired.is_(False),
        Breakout.delete_requested.is_(False),
    )
    mine = _turn_key(row.id, row.accept_attachment_expiry_date)
    return all(_turn_key(rid, expiry) > mine for rid, expiry in session.execute(rivals))


def _turn_key(breakout_id: int, expiry: datetime | None) -> tuple[float, int]:
    # The expiry is acceptance + a fixed window, so it orders by acceptance.
    return (expiry.timestamp() if expiry else float("inf"), breakout_id)


# --- writes (within the caller's transaction; transports call them through ``commands``) ----
def create_tgw(
    *, session: Session, settings: Settings, principal: Principal, data: BreakoutTgwCreate
) -> Breakout:
    """Validate and store a new TGW breakout (status 1); ``commands`` starts its workflow."""
    _check_type(data.type_id())
    _check_account(session, settings, data.aws_account_id)
    lock_region(session, data.region)
    region = _check_region(session, settings, data.region)
    nets = validate_cidrs(session=session, settings=settings, region=region, cidrs=data.vpc_cidr,
                          org_id=principal.org_id)  # fmt: skip
    _check_account_free(session, region.name, data.aws_account_id, principal.org_id)
    row = Breakout(
        org_id=principal.org_id,
        user_id=principal.user_id,
        type_id=BreakoutType.TGW,
        name=data.name,
        description=data.description,
        region=region.name,
        aws_account_id=data.aws_account_id,
        vpc_cidrs=json.dumps([str(n) for n in nets]),
        status_id=Status.PENDING_CUSTOMER_ACTION,
        tgw_id=region.tgw_id,
        invitation_expiry_date=utcnow() + timedelta(seconds=settings.invitation_ttl_seconds),
    )
    session.add(row)
    session.flush()
    _store_cidrs(session, row, nets)
    _event(session, row, "Breakout created", f"Breakout {row.name!r} created",
           principal=principal, detail={"vpc_cidr": row.cidr_list, "region": row.region,
                                        "aws_account_id": row.aws_account_id})  # fmt: skip
    return row


def _vpn_inside_cidrs_in_use(session: Session, region: str) -> set[str]:
    stmt = select(Breakout.vpn_tunnels, Breakout.vpn_inside_cidrs).where(
        Breakout.region == region, Breakout.status_id.in_([s.value for s in LIVE]),
        Breakout.type_id.in_([t.value for t in VPN_TYPES]))  # fmt: skip
    taken: set[str] = set()
    for tunnels, requested in session.execute(stmt):
        taken.update(json.loads(requested or "[]"))
        taken.update(t.get("inside_cidr", "") for t in json.loads(tunnels or "[]"))
    return taken


def create_vpn(
    *, session: Session, settings: Settings, principal: Principal, data: BreakoutVpnCreate
) -> Breakout:
    """Validate and store a new VPN breakout (status 1); ``commands`` starts its workflow.
    Every refusal names its field, and nothing is stored."""
    kind = vpn.check_type(data.type_id())
    public_ip = vpn.check_public_ip(data.public_ip)
    public_ip_2 = vpn.check_second_ip(kind, data.public_ip_2, public_ip)
    psk = vpn.check_psk(data.psk)
    asn = vpn.check_asn(kind, data.asn)
    if len(data.on_prem_cidr) > MAX_ON_PREM_CIDRS:
        raise InvalidInput(f"{len(data.on_prem_cidr)} CIDRs given; a VPN breakout takes 1 to "
                           f"{MAX_ON_PREM_CIDRS}", field="on_prem_cidr")  # fmt: skip
    lock_region(session, data.region)
    region = _check_region(session, settings, data.region)
    inside = vpn.check_inside_cidrs(kind, data.inside_cidr,
                                    _vpn_inside_cidrs_in_use(session, region.name))  # fmt: skip
    nets = validate_cidrs(session=session, settings=settings, region=region,
                          cidrs=data.on_prem_cidr, org_id=principal.org_id,
                          field="on_prem_cidr")  # fmt: skip
    row = Breakout(
        org_id=principal.org_id, user_id=principal.user_id, type_id=kind, name=data.name,
        description=data.description, region=region.name, aws_account_id="",
        vpc_cidrs=json.dumps([str(n) for n in nets]), status_id=Status.PENDING_CUSTOMER_ACTION,
        tgw_id=region.tgw_id, vpn_public_ip=public_ip, vpn_public_ip_2=public_ip_2, vpn_asn=asn,
        vpn_psk_sealed=vpn.seal_psk(psk, signing_key=settings.signing_key()),
        vpn_inside_cidrs=json.dumps(inside), vpn_tunnels="[]",
    )  # fmt: skip
    session.add(row)
    session.flush()
    _store_cidrs(session, row, nets)
    _event(session, row, "Breakout created", f"VPN breakout {row.name!r} created",
           principal=principal, detail={"on_prem_cidr": row.cidr_list, "region": row.region,
                                        "public_ip": public_ip, "asn": asn,
                                        **({"public_ip_2": public_ip_2} if public_ip_2 else {}),
                                        "type": int(kind)})  # fmt: skip
    return row


def vpn_configuration(*, session: Session, settings: Settings, row: Breakout, vendor: str) -> str:
    """The text the customer applies to its VPN server, for ``vendor``."""
    if not row.is_vpn:
        raise InvalidInput(f"breakout {row.id} is not a VPN breakout; only types 2 to 4 have "
                           "a VPN configuration", field="cloudconnect_attachment_id")  # fmt: skip
    info = region_info(session=session, name=row.region)
    remote = [info.core_vpc_cidr] if info else []
    remote += _device_cidrs_of(session, settings, row.org_id)
    return vpn.configuration(vendor, {
        "id": row.id, "public_ip": row.vpn_public_ip, "asn": row.vpn_asn,
        "psk": vpn.unseal_psk(row.vpn_psk_sealed or "", signing_key=settings.signing_key()),
        "bgp": row.type_id in BGP_TYPES, "amazon_asn": vpn.AMAZON_SIDE_ASN,
        "on_prem_cidr": row.cidr_list, "remote_cidrs": remote,
        "tunnels": [{**t, "customer_ip": customer_ip(row, t)} for t in row.tunnel_list],
    })  # fmt: skip


def customer_ip(row: Breakout, tunnel: dict[str, Any]) -> str | None:
    """The customer's VPN server a tunnel ends on: type 4's second connection ends on the
    second server, every other tunnel on the first."""
    second = row.vpn_connection_id_2 and tunnel.get("vpn_connection_id") == row.vpn_connection_id_2
    return row.vpn_public_ip_2 if second else row.vpn_public_ip


def _device_cidrs_of(session: Session, settings: Settings, org_id: int) -> list[str]:
    """The organisation's device ranges (else the whole device range): what the customer's
    side routes into the tunnels, besides the core VPC."""
    from linkplane.addressing.service import assigned_device_cidrs

    own = [str(net) for org, net in assigned_device_cidrs(session=session) if org == org_id]
    return own or [settings.device_cidr]


#: emnify: "You can configure up to 3 ranges".
MAX_ON_PREM_CIDRS = 3


def request_delete(
    *, session: Session, principal: Principal, breakout_id: int
) -> tuple[Breakout, DeleteAction]:
    """Mark the breakout for deletion (status 6); say how the teardown gets going."""
    row = get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    if not deletable(row):
        raise Conflict(
            f"breakout {row.id} is {STATUS_DESCRIPTION[row.status]} and cannot be deleted",
            field="status",
        )
    if row.delete_requested:
        return row, DeleteAction.SIGNAL_WORKFLOW
    action = (
        DeleteAction.SIGNAL_WORKFLOW
        if row.status in PROVISIONING and not row.expired
        else DeleteAction.START_TEARDOWN
    )
    row.delete_requested = True
    transition(session=session, row=row, to=Status.DEACTIVATION_PENDING,
               reason="deletion requested", principal=principal)  # fmt: skip
    return row, action


def retry(
    *, session: Session, settings: Settings, principal: Principal, breakout_id: int
) -> Breakout:
    """PATCH: start revision+1 of an expired TGW breakout with a fresh share and wait."""
    row = get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    refusal = _retry_refusal(row)
    if refusal:
        raise Conflict(refusal)
    lock_region(session, row.region)
    region = _check_region(session, settings, row.region)
    validate_cidrs(session=session, settings=settings, region=region, cidrs=row.cidr_list,
                   exclude_id=row.id, org_id=row.org_id)  # fmt: skip
    _check_account_free(session, row.region, row.aws_account_id, row.org_id)
    row.revision += 1
    row.expired = False
    row.status_reason = None
    row.accept_attachment_expiry_date = None
    row.tgw_id = region.tgw_id
    row.invitation_expiry_date = utcnow() + timedelta(seconds=settings.invitation_ttl_seconds)
    transition(session=session, row=row, to=Status.PENDING_CUSTOMER_ACTION,
               reason=f"retried as revision {row.revision}", principal=principal,
               event_type="Breakout retried")  # fmt: skip
    return row


def check_recheck(*, session: Session, principal: Principal, breakout_id: int) -> Breakout:
    """A re-check only makes sense while the workflow waits for the customer."""
    row = get_breakout(session=session, org_id=principal.org_id, breakout_id=breakout_id)
    if not recheckable(row):
        raise Conflict(
            f"breakout {row.id} is {STATUS_DESCRIPTION[row.status]}; only a breakout waiting "
            "for the customer (status 1 or 2) can be re-checked",
            field="status",
        )
    return row


# --- state changes (API and workflows) ------------------------------------------------------
def transition(
    *,
    session: Session,
    row: Breakout,
    to: Status,
    reason: str,
    principal: Principal | None = None,
    detail: dict[str, Any] | None = None,
    event_type: str = "Breakout state changed",
) -> None:
    """Move ``row`` to ``to`` if the lifecycle allows it, and record why."""
    was = row.status
    if to is not was and to not in TRANSITIONS[was]:
        raise Conflict(
            f"breakout {row.id} cannot go from {STATUS_DESCRIPTION[was]} to "
            f"{STATUS_DESCRIPTION[to]}",
            field="status",
        )
    row.status_id = to
    if to is Status.DEACTIVATED:
        row.termination_date = utcnow()
    text = f"{STATUS_DESCRIPTION[was]} -> {STATUS_DESCRIPTION[to]}: {reason}"
    info = {"from": int(was), "to": int(to), "reason": reason, **(detail or {})}
    _event(session, row, event_type, text, principal=principal, detail=info)


def record_note(
    *, session: Session, row: Breakout, description: str, detail: dict[str, Any],
    severity: int = 0,
) -> None:  # fmt: skip
    """An event without a status change: an AWS resource created or removed, a rejection."""
    _event(session, row, "Breakout state changed", description, detail=detail, severity=severity)


def record_event(
    *, session: Session, row: Breakout, event_type: str, description: str,
    detail: dict[str, Any], severity: int = 0,
) -> None:  # fmt: skip
    """An event of its own type on the breakout (e.g. a VPN tunnel went down)."""
    _event(session, row, event_type, description, detail=detail, severity=severity)


def _event(
    session: Session,
    row: Breakout,
    event_type: str,
    description: str,
    *,
    principal: Principal | None = None,
    detail: dict[str, Any] | None = None,
    severity: int = 0,
) -> None:
    events.record(
        session=session,
        org_id=row.org_id,
        event_type=event_type,
        description=description,
        principal=principal,
        actor=None if principal else "workflow",
        entity_type=ENTITY,
        entity_id=row.id,
        severity=severity,
        source="api" if principal else "network",
        detail={"revision": row.revision, **(detail or {})},
    )


def count_events(*, session: Session, row: Breakout, event_type: str) -> int:
    """How many events of ``event_type`` the breakout has."""
    return count_events_of(session=session, ids=[row.id], event_type=event_type).get(row.id, 0)


#: Breakout ids per ``IN`` list of :func:`count_events_of`: well under PostgreSQL's 65,535
#: bound parameters per statement.
EVENT_COUNT_CHUNK = 5000


def count_events_of(*, session: Session, ids: list[int], event_type: str) -> dict[int, int]:
    """How many events of ``event_type`` each of the breakouts ``ids`` has (absent: none)."""
    counts: dict[int, int] = {}
    for start in range(0, len(ids), EVENT_COUNT_CHUNK):
        chunk = ids[start : start + EVENT_COUNT_CHUNK]
        stmt = select(Event.entity_id, func.count()).where(
            Event.entity_type == ENTITY, Event.entity_id.in_(chunk), Event.event_type == event_type
        )
        counts.update((int(i), int(n)) for i, n in session.execute(stmt.group_by(Event.entity_id)))
    return counts


def last_event_time(*, session: Session, row: Breakout) -> datetime | None:
    """When the breakout's latest event was recorded."""
    stmt = select(func.max(Event.timestamp)).where(
        Event.entity_type == ENTITY, Event.entity_id == row.id
    )
    last: datetime | None = session.scalar(stmt)
    return last


def breakouts_of_account(*, session: Session, region: str, account_id: str) -> list[Breakout]:
    """Every breakout (any state) of ``account_id`` in ``region``, newest first."""
    stmt = select(Breakout).where(Breakout.region == region)
    stmt = stmt.where(Breakout.aws_account_id == account_id).order_by(Breakout.id.desc())
    return list(session.scalars(stmt).all())


def reserved_cidr_source(session: Session) -> Iterable[tuple[str, IPv4Network]]:
    """For addressing: CIDRs of live breakouts, which no device address space may overlap."""
    stmt = select(Breakout).where(Breakout.status_id.in_([s.value for s in LIVE]))
    for row in session.scalars(stmt):
        for cidr in row.cidr_list:
            yield f"breakout {row.id} {cidr}", IPv4Network(cidr)


def expiry_of(row: Breakout) -> datetime | None:
    """``accept_attachment_expiry_date`` as the spec shows it: only in status 2."""
    shown = row.status is Status.PENDING_AWS_ACTIVATION
    return row.accept_attachment_expiry_date if shown else None
