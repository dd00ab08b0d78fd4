"""What the workflows write to the application database, one function per step.

Each function takes a session (the step's transaction) and returns plain picklable values,
because DBOS checkpoints step results. A state change for a breakout the user asked to delete
raises :class:`Stop` instead, so the workflow turns to the teardown at its next step.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from linkplane.attachments import crossregion, service
from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import (
    BREAKOUT_TAG,
    PROVISIONED_TYPES,
    REVISION_TAG,
    Breakout,
    BreakoutType,
    Status,
)
from linkplane.attachments.regions import region_info
from linkplane.db import utcnow
from linkplane.installation.service import installation_id
from linkplane.installation.tags import TAG as INSTALLATION_TAG
from linkplane.regions.models import RegionPeering
from linkplane.settings import Settings


class StopKind(StrEnum):
    DELETED = "deleted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"


class Stop(Exception):
    """Provisioning ends early: teardown follows. Picklable (DBOS records step errors)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(kind, reason)
        self.kind = StopKind(kind)
        self.reason = reason


@dataclass(frozen=True)
class VpnSpec:
    """What a VPN breakout asks of AWS (types 2-4), carried by its plan."""

    public_ip: str
    asn: int
    sealed_psk: str  # sealed as at rest: the plan is checkpointed by the durable engine
    static_routes_only: bool
    inside_cidrs: tuple[str, ...] = ()
    #: Type 4: the second customer gateway's IP (empty: one connection).
    public_ip_2: str = ""

    @property
    def connections(self) -> tuple[int, ...]:
        """The connections to make: 1, and 2 for type 4."""
        return (1, 2) if self.public_ip_2 else (1,)

    def public_ip_of(self, n: int) -> str:
        return self.public_ip_2 if n == 2 else self.public_ip

    def inside_cidrs_of(self, n: int) -> tuple[str, ...]:
        """The requested inside CIDRs of connection ``n``'s two tunnels (the first two are the
        first connection's); empty lets AWS pick."""
        return self.inside_cidrs[2 * (n - 1):2 * n]


@dataclass(frozen=True)
class Plan:
    breakout_id: int
    revision: int
    region: str
    account_id: str
    tgw_id: str
    tgw_arn: str
    core_route_table_id: str
    customers_route_table_id: str
    cidrs: tuple[str, ...]
    invitation_deadline: float  # epoch seconds
    core_vpc_id: str = ""
    #: CIDRs the core VPC's main route table must send to the TGW (outside the aggregate).
    vpc_route_cidrs: tuple[str, ...] = ()
    #: The installation's id (linkplane.installation), in the share's name, token and tags so
    #: that installations sharing a provider account never find each other's shares. Empty in
    #: plans DBOS checkpointed before installation ids existed: those keep the old names, so a
    #: replayed ``ensure_share`` finds the share it may have created before the upgrade.
    installation_id: str = ""
    #: Which plan (attachment type) provisions it; plans checkpointed before types were
    #: plans read the class default.
    type_id: int = BreakoutType.TGW
    #: VPN breakouts only.
    vpn: VpnSpec | None = None
    #: Which sequence of steps provisions the plan (TGW: ``workflows.tgw.SEQUENCE``, VPN:
    #: ``workflows.vpn_plan.SEQUENCE``). DBOS replays a workflow by the names of its recorded
    #: steps, so a workflow keeps the sequence it started with: plans checkpointed before
    #: sequence 2 read the class default and replay sequence 1.
    sequence: int = 1

    @property
    def client_token(self) -> str:
        return f"{self._prefix}breakout-{self.breakout_id}-{self.revision}"

    @property
    def share_name(self) -> str:
        return f"linkplane-{self._prefix}breakout-{self.breakout_id}-r{self.revision}"

    @property
    def tags(self) -> dict[str, str]:
        tags = {BREAKOUT_TAG: str(self.breakout_id), REVISION_TAG: str(self.revision)}
        if self.installation_id:
            tags[INSTALLATION_TAG] = self.installation_id
        return tags

    @property
    def _prefix(self) -> str:
        return f"{self.installation_id}-" if self.installation_id else ""


@dataclass(frozen=True)
class Resources:
    """The AWS resources a breakout row records, i.e. what a teardown must undo."""

    breakout_id: int
    region: str
    share_arn: str | None
    attachment_id: str | None
    associated_route_table_id: str | None
    core_route_table_id: str | None
    routes: tuple[str, ...] = field(default_factory=tuple)
    core_vpc_id: str = ""
    tgw_id: str = ""
    vpc_routes: tuple[str, ...] = field(default_factory=tuple)
    type_id: int = BreakoutType.TGW
    delete_requested: bool = False
    customer_gateway_id: str | None = None
    vpn_connection_id: str | None = None
    #: Type 4's second customer gateway, VPN connection and its ``vpn`` attachment.
    customer_gateway_id_2: str | None = None
    vpn_connection_id_2: str | None = None
    attachment_id_2: str | None = None
    #: Routes for devices in other regions (linkplane.attachments.crossregion).
    crossregion_routes: tuple[RemoteRoute, ...] = ()

    @property
    def anything(self) -> bool:
        """Does the row record any AWS resource (something a teardown must undo)?"""
        return bool(self.share_arn or self.attachment_id or self.associated_route_table_id
                    or self.routes or self.vpc_routes or self.crossregion_routes
                    or self.customer_gateway_id or self.vpn_connection_id
                    or self.customer_gateway_id_2 or self.vpn_connection_id_2)  # fmt: skip


def _row(session: Session, breakout_id: int, revision: int | None = None) -> Breakout:
    row = session.get(Breakout, breakout_id)
    if row is None or (revision is not None and row.revision != revision):
        raise Stop(StopKind.FAILED, f"breakout {breakout_id} revision {revision} is gone")
    return row


def _live_row(session: Session, breakout_id: int, revision: int) -> Breakout:
    row = _row(session, breakout_id, revision)
    if row.delete_requested:
        raise Stop(StopKind.DELETED, "deletion requested")
    return row


def current_row(session: Session, breakout_id: int, revision: int) -> Breakout | None:
    """The row, or None when this revision is no longer the breakout's current provisioning
    attempt; a deletion requested before the workflow ran raises Stop (straight to teardown).
    """
    row = session.get(Breakout, breakout_id)
    if row is None or row.revision != revision:
        return None
    return _live_row(session, breakout_id, revision)


def installation_of(session: Session, settings: Settings) -> str:
    """The installation id a plan carries: DBOS checkpoints it with the plan, so every later
    step (and a replay after an upgrade) names and tags the share the same way."""
    return installation_id(session, settings)


def tgw_plan(session: Session, row: Breakout, installation: str) -> Plan:
    info = region_info(session=session, name=row.region)
    if info is None:
        raise Stop(StopKind.FAILED, f"region {row.region} is no longer bootstrapped")
    deadline = row.invitation_expiry_date or utcnow()
    return Plan(
        breakout_id=row.id,
        revision=row.revision,
        region=row.region,
        account_id=row.aws_account_id,
        tgw_id=info.tgw_id,
        tgw_arn=info.tgw_arn,
        core_route_table_id=info.core_route_table_id,
        customers_route_table_id=info.customers_route_table_id,
        cidrs=tuple(row.cidr_list),
        invitation_deadline=deadline.timestamp(),
        core_vpc_id=info.core_vpc_id,
        vpc_route_cidrs=tuple(c for c in row.cidr_list if info.needs_vpc_route(c)),
        installation_id=installation,
        type_id=row.type_id,
    )


def vpn_plan(session: Session, row: Breakout, installation: str) -> Plan:
    """The TGW plan's routing part plus what the VPN connection needs."""
    spec = VpnSpec(public_ip=row.vpn_public_ip or "", asn=int(row.vpn_asn or 0),
                   sealed_psk=row.vpn_psk_sealed or "",
                   static_routes_only=row.type_id == BreakoutType.IPSEC_VPN,
                   inside_cidrs=tuple(row.inside_cidr_list),
                   public_ip_2=row.vpn_public_ip_2 or "")  # fmt: skip
    return replace(tgw_plan(session, row, installation), vpn=spec)


def start_vpn(session: Session, plan: Plan) -> None:
    """Status 3: linkplane makes the customer gateway and the VPN connection now."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    service.transition(session=session, row=row, to=Status.PENDING_EGN_ACTIVATION,
                       reason="creating the customer gateway and the VPN connection",
                       detail={"public_ip": row.vpn_public_ip})  # fmt: skip


def record_customer_gateway(session: Session, plan: Plan, gateway_id: str, n: int = 1) -> None:
    """Customer gateway ``n`` (type 4 has a second one) exists."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    if n == 2:
        row.customer_gateway_id_2 = gateway_id
    else:
        row.customer_gateway_id = gateway_id
    ip = row.vpn_public_ip_2 if n == 2 else row.vpn_public_ip
    service.record_note(session=session, row=row, description="Customer gateway created",
                        detail={"customer_gateway_id": gateway_id, "public_ip": ip})  # fmt: skip


def record_vpn_connection(session: Session, plan: Plan, vpn_id: str,
                          tunnels: list[dict[str, object]], n: int = 1) -> None:  # fmt: skip
    """VPN connection ``n`` exists; its tunnels join (or replace) its earlier ones."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    if n == 2:
        row.vpn_connection_id_2 = vpn_id
    else:
        row.vpn_connection_id = vpn_id
    others = [t for t in row.tunnel_list if t.get("vpn_connection_id") not in (vpn_id, None)]
    row.vpn_tunnels = json.dumps(others + tunnels if n == 2 else tunnels + others)
    service.record_note(session=session, row=row, description="VPN connection created",
                        detail={"vpn_connection_id": vpn_id, "tgw_id": plan.tgw_id,
                                "tunnels": [t["outside_ip"] for t in tunnels]})  # fmt: skip


def record_vpn_attachment(session: Session, plan: Plan, attachment_ids: list[str]) -> None:
    """The connections' ``vpn`` attachments (one, or two for type 4) are available."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    row.attachment_id = attachment_ids[0]
    row.attachment_id_2 = attachment_ids[1] if len(attachment_ids) > 1 else None
    service.record_note(session=session, row=row, description="VPN connection available",
                        detail={"attachment_id": row.attachment_id,
                                "vpn_connection_id": row.vpn_connection_id,
                                **({"attachment_id_2": row.attachment_id_2,
                                    "vpn_connection_id_2": row.vpn_connection_id_2}
                                   if row.attachment_id_2 else {})})  # fmt: skip


def record_share(session: Session, plan: Plan, share_arn: str) -> None:
    row = _live_row(session, plan.breakout_id, plan.revision)
    if row.share_arn == share_arn:
        return  # recorded by an earlier run of this step (it ran again after a crash)
    row.share_arn = share_arn
    service.record_note(session=session, row=row,
                        description=f"Resource share created for account {plan.account_id}",
                        detail={"share_arn": share_arn, "tgw_id": plan.tgw_id})  # fmt: skip


def mark_accepted(session: Session, plan: Plan, settings: Settings) -> float:
    """Status 2; returns the attachment deadline (epoch) now recorded on the row."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    recorded = row.accept_attachment_expiry_date
    if row.status is Status.PENDING_AWS_ACTIVATION and recorded is not None:
        return recorded.timestamp()  # an earlier run of this step (again after a crash)
    expiry = utcnow() + timedelta(seconds=settings.attachment_wait_seconds)
    row.accept_attachment_expiry_date = expiry
    service.transition(session=session, row=row, to=Status.PENDING_AWS_ACTIVATION,
                       reason="the customer accepted the resource share invitation",
                       detail={"share_arn": row.share_arn,
                               "accept_attachment_expiry_date": expiry.isoformat()})  # fmt: skip
    return expiry.timestamp()


def attachment_turn(session: Session, plan: Plan) -> bool:
    """See :func:`service.attachment_turn` (several organisations, one account)."""
    return service.attachment_turn(session, plan.breakout_id)


def claim_attachment(session: Session, plan: Plan, attachment_id: str) -> None:
    row = _live_row(session, plan.breakout_id, plan.revision)
    if _claimed(row) == attachment_id:
        return  # an earlier run of this step (again after a crash)
    row.attachment_id = attachment_id
    service.transition(session=session, row=row, to=Status.PENDING_EGN_ACTIVATION,
                       reason="the customer's attachment arrived; accepting it",
                       detail={"attachment_id": attachment_id})  # fmt: skip


def _claimed(row: Breakout) -> str | None:
    """The attachment this row's provisioning claimed (status 3 records it), if any."""
    return row.attachment_id if row.status is Status.PENDING_EGN_ACTIVATION else None


def claim_found(session: Session, plan: Plan, found: str | None) -> str | None:
    """The attachment to accept: the one an earlier run of this step claimed (it may be past
    pendingAcceptance now, so no longer ``found``), else ``found`` when it is this
    breakout's turn (:func:`attachment_turn`), claimed now; None to keep waiting."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    claimed = _claimed(row)
    if claimed:
        return claimed
    if found is None or not service.attachment_turn(session, plan.breakout_id):
        return None
    claim_attachment(session, plan, found)
    return found


def start_routing(session: Session, plan: Plan) -> None:
    """Status 4, recording the association and routes *before* they are made.

    Undoing a route or association that was never made is a no-op, so recording first means
    a crash between the AWS call and the record can never leave one behind.
    """
    row = _live_row(session, plan.breakout_id, plan.revision)
    row.associated_route_table_id = plan.customers_route_table_id
    row.core_route_table_id = plan.core_route_table_id
    row.routes = json.dumps(list(plan.cidrs))
    if row.status in (Status.PENDING_CRG_ACTIVATION, Status.ACTIVE):
        return  # an earlier run of this step (again after a crash) got here or further
    service.transition(session=session, row=row, to=Status.PENDING_CRG_ACTIVATION,
                       reason="attachment available; associating and routing",
                       detail={"attachment_id": row.attachment_id})  # fmt: skip


def start_crossregion(session: Session, plan: Plan) -> list[RemoteRoute]:
    """Record the routes for the organisation's devices in other regions *before* they are
    made (as :func:`start_routing` does), and return them."""
    row = _live_row(session, plan.breakout_id, plan.revision)
    routes = crossregion.wanted(session, row)
    crossregion.record_routes(row, routes)
    return routes


def begin_reroutes(session: Session) -> list[crossregion.Reroute]:
    """Active breakouts (TGW and VPN) whose cross-region routes no longer follow the
    profiles' breakout regions and the peerings (:func:`crossregion.reroute_plan`). The routes
    to add are recorded *before* they are made, as :func:`start_crossregion` does."""
    provisioned = [t.value for t in PROVISIONED_TYPES]
    stmt = select(Breakout).where(Breakout.status_id == Status.ACTIVE,
                                  Breakout.type_id.in_(provisioned))  # fmt: skip
    if session.scalar(select(RegionPeering.id).limit(1)) is None:
        # no peering: no breakout wants a route across one, only recorded ones can go
        stmt = stmt.where(Breakout.crossregion_routes != "[]")
    out = []
    world = crossregion.World.read(session)
    for row in session.scalars(stmt.order_by(Breakout.id)):
        moved = crossregion.reroute_plan(session, row, world)
        if moved is None:
            continue
        crossregion.record_routes(row, list(dict.fromkeys([*crossregion.recorded(row),
                                                           *moved.add])))  # fmt: skip
        out.append(moved)
    return out


def finish_reroute(session: Session, moved: crossregion.Reroute) -> bool:
    """Record the routes ``moved`` left (the removed ones are gone) with an event; False when
    the breakout left Active meanwhile: its teardown may have missed the added routes."""
    row = session.get(Breakout, moved.breakout_id)
    if row is None or row.status is not Status.ACTIVE:
        return False
    if moved.remove and set(crossregion.recorded(row)) == set(moved.final):
        # Another sweep (an overlapping tick, or one recovered after a crash) planned the
        # same removals and finished first: the move is noted once.
        return True
    crossregion.record_routes(row, list(moved.final))
    added, removed = [r.label() for r in moved.add], [r.label() for r in moved.remove]
    text = (f"Routes for devices in other regions follow the service profiles' breakout "
            f"regions and the peerings: {len(added)} added or repointed, {len(removed)} removed")
    if _last_note_is(session, row, text, {"added": added, "removed": removed}):
        return True  # two sweeps that began at once both planned this move: noted once
    service.record_note(session=session, row=row, description=text,
                        detail={"added": added, "removed": removed})  # fmt: skip
    return True


def _last_note_is(session: Session, row: Breakout, text: str, detail: dict[str, object]
                  ) -> bool:  # fmt: skip
    """The breakout's newest event is this note already (same text, same routes)."""
    events = service.history(session=session, org_id=row.org_id, breakout_id=row.id)
    if not events or events[-1].description != text:
        return False
    last = json.loads(events[-1].detail or "{}")
    return all(last.get(key) == value for key, value in detail.items())


def abort_reroute(session: Session, moved: crossregion.Reroute, unmade: list[RemoteRoute],
                  error: str) -> None:  # fmt: skip
    """AWS refused a step of ``moved``: forget the routes that were never made (the rest stays
    recorded, so teardown and audit see it) and warn; the next sweep plans the move again."""
    row = session.get(Breakout, moved.breakout_id)
    if row is None or row.status is not Status.ACTIVE:
        return
    crossregion.record_routes(row, [r for r in crossregion.recorded(row) if r not in unmade])
    text = (f"Routes for devices in other regions could not follow the service profiles' "
            f"breakout regions and the peerings: {error}; the next breakout sweep tries again")
    events = service.history(session=session, org_id=row.org_id, breakout_id=row.id)
    if events and events[-1].description == text:
        return  # the same refusal as last sweep: one warning, not one per sweep
    service.record_note(session=session, row=row, severity=1, description=text,
                        detail={"error": error, "not_made": [r.label() for r in unmade]})


def activate(session: Session, plan: Plan) -> None:
    row = _live_row(session, plan.breakout_id, plan.revision)
    if row.status is Status.ACTIVE:
        return  # an earlier run of this step (again after a crash)
    service.transition(session=session, row=row, to=Status.ACTIVE,
                       reason="associated with the customers route table; routes in the core",
                       detail=resources_detail(row))  # fmt: skip


def note(session: Session, breakout_id: int, text: str, detail: dict[str, object],
         severity: int = 0) -> None:  # fmt: skip
    service.record_note(session=session, row=_row(session, breakout_id), description=text,
                        detail=dict(detail), severity=severity)  # fmt: skip


def resources_detail(row: Breakout) -> dict[str, object]:
    return {
        "tgw_id": row.tgw_id,
        "share_arn": row.share_arn,
        "attachment_id": row.attachment_id,
        "associated_route_table_id": row.associated_route_table_id,
        "core_route_table_id": row.core_route_table_id,
        "routes": row.route_list,
        "crossregion_routes": [r.label() for r in crossregion.recorded(row)],
        **({"customer_gateway_id": row.customer_gateway_id,
            "vpn_connection_id": row.vpn_connection_id} if row.is_vpn else {}),
        **({"customer_gateway_id_2": row.customer_gateway_id_2,
            "vpn_connection_id_2": row.vpn_connection_id_2, "attachment_id_2": row.attachment_id_2}
           if row.type_id == BreakoutType.VPN_BGP_HA else {}),
    }


def resources_of(row: Breakout, session: Session | None = None) -> Resources:
    info = region_info(session=session, name=row.region) if session is not None else None
    vpc_routes = tuple(c for c in row.route_list if info and info.needs_vpc_route(c))
    return Resources(
        core_vpc_id=info.core_vpc_id if info else "",
        tgw_id=row.tgw_id or "",
        vpc_routes=vpc_routes,
        breakout_id=row.id,
        region=row.region,
        share_arn=row.share_arn,
        attachment_id=row.attachment_id,
        associated_route_table_id=row.associated_route_table_id,
        core_route_table_id=row.core_route_table_id,
        routes=tuple(row.route_list),
        type_id=row.type_id,
        delete_requested=row.delete_requested,
        customer_gateway_id=row.customer_gateway_id,
        vpn_connection_id=row.vpn_connection_id,
        customer_gateway_id_2=row.customer_gateway_id_2,
        vpn_connection_id_2=row.vpn_connection_id_2,
        attachment_id_2=row.attachment_id_2,
        crossregion_routes=tuple(crossregion.recorded(row)),
    )


def begin_unwind(session: Session, breakout_id: int, kind: str, reason: str) -> Resources:
    """Status 6 for a deletion, 8 (Rolling Back) otherwise; returns what must be undone."""
    row = _row(session, breakout_id)
    if row.delete_requested or kind == StopKind.DELETED:
        service.transition(session=session, row=row, to=Status.DEACTIVATION_PENDING,
                           reason=reason)  # fmt: skip
    else:
        service.transition(session=session, row=row, to=Status.ROLLING_BACK, reason=reason)
    return resources_of(row, session)


def begin_rollback(session: Session, breakout_id: int, revision: int, why: str
                   ) -> Resources | None:  # fmt: skip
    """Status 8 (6 when a deletion was asked) for a revision whose provisioning workflow
    failed; returns what must be undone, or None when the row moved on meanwhile."""
    row = session.get(Breakout, breakout_id)
    if row is None or row.revision != revision or row.status is Status.DEACTIVATED:
        return None
    reason = f"the provisioning workflow failed: {why}"
    to = Status.DEACTIVATION_PENDING if row.delete_requested else Status.ROLLING_BACK
    if row.status is not to:
        service.transition(session=session, row=row, to=to, reason=reason)
    return resources_of(row, session)


def restart(session: Session, breakout_id: int, revision: int, why: str,
            settings: Settings) -> int | None:  # fmt: skip
    """A provisioning attempt that failed before it made anything starts again as the next
    revision (a fresh workflow id and invitation deadline); None when the row moved on."""
    row = session.get(Breakout, breakout_id)
    if row is None or row.revision != revision or not restartable(row):
        return None
    row.revision += 1
    row.invitation_expiry_date = utcnow() + timedelta(seconds=settings.invitation_ttl_seconds)
    service.transition(session=session, row=row, to=Status.PENDING_CUSTOMER_ACTION,
                       reason=f"the provisioning workflow failed ({why}); started again as "
                              f"revision {row.revision}", event_type=RESTARTED)  # fmt: skip
    return row.revision


RESTARTED = "Breakout restarted"
#: A failure that outlives this many fresh starts is not transient: roll back instead.
MAX_RESTARTS = 3


def restartable(row: Breakout, restarts: int | None = None) -> bool:
    """Waiting for its share with nothing made, nothing asked and few restarts so far: safe
    to simply start over. ``restarts``: the row's restart count when the caller has read it
    (:func:`in_flight` reads all of them in one query); else it is counted here."""
    if row.status is not Status.PENDING_CUSTOMER_ACTION or row.delete_requested:
        return False
    if resources_of(row).anything:
        return False
    if restarts is None:
        session = object_session(row)
        if session is None:
            return False
        restarts = service.count_events(session=session, row=row, event_type=RESTARTED)
    return restarts < MAX_RESTARTS


def forget(session: Session, breakout_id: int, what: str) -> None:
    """A resource was undone: the row stops recording it."""
    row = _row(session, breakout_id)
    if what == "routes":
        row.routes = "[]"
        row.core_route_table_id = None
    elif what == "association":
        row.associated_route_table_id = None
    elif what == "attachment":
        row.attachment_id = None
    elif what == "share":
        row.share_arn = None
    elif what == "vpn_connection":  # its vpn attachment went with it
        row.vpn_connection_id = None
        row.attachment_id = None
    elif what == "customer_gateway":
        row.customer_gateway_id = None
    elif what == "vpn_connection_2":
        row.vpn_connection_id_2 = None
        row.attachment_id_2 = None
    elif what == "customer_gateway_2":
        row.customer_gateway_id_2 = None
    elif what == "crossregion":
        row.crossregion_routes = "[]"
    else:
        raise ValueError(what)


def finish_unwind(session: Session, breakout_id: int, kind: str, reason: str) -> int:
    """The final state: 2 + ``expired`` after an expiry (PATCH may retry), else 7."""
    row = _row(session, breakout_id)
    row.status_reason = reason
    if kind == StopKind.EXPIRED and not row.delete_requested:
        row.expired = True
        service.transition(session=session, row=row, to=Status.PENDING_AWS_ACTIVATION,
                           reason=f"expired: {reason}; PATCH retries it")  # fmt: skip
    else:
        service.transition(session=session, row=row, to=Status.DEACTIVATED, reason=reason)
    return row.status_id


def leftovers(session: Session, retry_after_seconds: float) -> list[Resources]:
    """Deactivated breakouts that still record AWS resources (an undo failed), whose last
    event is older than ``retry_after_seconds``: what the sweep should try to undo again."""
    stmt = select(Breakout).where(
        Breakout.status_id == Status.DEACTIVATED,
        (Breakout.share_arn.is_not(None)) | (Breakout.attachment_id.is_not(None))
        | (Breakout.associated_route_table_id.is_not(None)) | (Breakout.routes != "[]")
        | (Breakout.crossregion_routes != "[]")
        | (Breakout.customer_gateway_id.is_not(None)) | (Breakout.vpn_connection_id.is_not(None))
        | (Breakout.customer_gateway_id_2.is_not(None))
        | (Breakout.vpn_connection_id_2.is_not(None)),
    )  # fmt: skip
    cutoff = utcnow() - timedelta(seconds=retry_after_seconds)
    due = []
    for row in session.scalars(stmt):
        last = service.last_event_time(session=session, row=row)
        if last is None or last <= cutoff:
            due.append(resources_of(row, session))
    return due


def finish_retry(session: Session, breakout_id: int, problems: list[str]) -> None:
    """Record how a retried cleanup ended, in the reason the API shows."""
    row = _row(session, breakout_id)
    reason = (row.status_reason or "").split("; cleanup incomplete:")[0]
    if problems:
        row.status_reason = f"{reason}; cleanup incomplete: {'; '.join(problems)}"
        return
    row.status_reason = f"{reason}; leftover AWS resources removed later"
    service.record_note(session=session, row=row, detail={},
                        description="Cleanup completed: no AWS resources left")  # fmt: skip


#: The "attachment state" the sweep passes when the breakout's transit gateway itself is gone:
#: then the customer did nothing, and the reason must not say it did (issue 13, item 7).
TGW_GONE = "transit-gateway-gone"


def detach_reason(state: str, *, with_state: bool = True) -> str:
    """Why an Active breakout lost its attachment, in the words its users read."""
    if state == TGW_GONE:
        return ("the provider's transit gateway no longer exists (deleted outside linkplane, "
                "or the embedded cloud lost its state); not the customer's doing")  # fmt: skip
    return "the customer deleted its attachment" + (f" (state {state})" if with_state else "")


def begin_detach(session: Session, breakout_id: int, state: str) -> Resources | None:
    """An Active breakout whose attachment is gone: status 6, clean up."""
    row = _row(session, breakout_id)
    if row.status is not Status.ACTIVE:
        return None
    service.transition(session=session, row=row, to=Status.DEACTIVATION_PENDING,
                       reason=detach_reason(state),
                       detail={"attachment_id": row.attachment_id}, )  # fmt: skip
    return resources_of(row, session)


def begin_delete(session: Session, breakout_id: int) -> Resources | None:
    row = _row(session, breakout_id)
    if row.status is not Status.DEACTIVATION_PENDING:
        return None
    return resources_of(row, session)


def active_attachments(
    session: Session, *, region: str | None = None
) -> list[tuple[int, str, str, str]]:
    """(breakout id, region, attachment id, TGW id) of every Active breakout (in ``region``)."""
    stmt = select(Breakout.id, Breakout.region, Breakout.attachment_id, Breakout.attachment_id_2,
                  Breakout.tgw_id)  # fmt: skip
    stmt = stmt.where(Breakout.status_id == Status.ACTIVE)
    if region is not None:
        stmt = stmt.where(Breakout.region == region)
    # Type 4's second attachment too: either going means the breakout lost its HA.
    return [(i, r, a, t or "") for i, r, a1, a2, t in session.execute(stmt)
            for a in (a1, a2) if a]  # fmt: skip


def active_regions(session: Session) -> list[str]:
    """The regions that hold an Active breakout."""
    stmt = select(Breakout.region).where(Breakout.status_id == Status.ACTIVE).distinct()
    return sorted(session.scalars(stmt))


@dataclass(frozen=True)
class InFlight:
    """A row some workflow should be working on (see ``workflows.recovery``)."""

    breakout_id: int
    revision: int
    status: int
    delete_requested: bool
    restartable: bool
    region: str = ""
    org_id: int = 0
    #: What it records owning (for reports): e.g. ``("share",)``.
    owns: tuple[str, ...] = ()


#: Not final, and not an expired one waiting for a PATCH (its workflow ended on purpose).
_IN_FLIGHT = [Status.PENDING_CUSTOMER_ACTION, Status.PENDING_AWS_ACTIVATION,
              Status.PENDING_EGN_ACTIVATION, Status.PENDING_CRG_ACTIVATION,
              Status.DEACTIVATION_PENDING, Status.ROLLING_BACK]  # fmt: skip


def in_flight(session: Session, ids: list[int] | None = None) -> list[InFlight]:
    """Rows a workflow should be working on (all of them, or those of ``ids``)."""
    stmt = select(Breakout).where(Breakout.status_id.in_([s.value for s in _IN_FLIGHT]))
    stmt = stmt.where(~(Breakout.expired & ~Breakout.delete_requested))
    if ids is not None:
        stmt = stmt.where(Breakout.id.in_(ids))
    rows = list(session.scalars(stmt.order_by(Breakout.id)))
    # One grouped query, not one per row: every sweep pass reads every breakout in flight,
    # and 5,000 still waiting for their shares cost 5,000 counts a pass (py-spy: 40% of the
    # engine while 10,000 parked breakouts were filled on PostgreSQL).
    waiting = [row.id for row in rows if row.status is Status.PENDING_CUSTOMER_ACTION]
    restarts = service.count_events_of(session=session, ids=waiting, event_type=RESTARTED)
    return [in_flight_of(row, restarts.get(row.id, 0)) for row in rows]


def in_flight_of(row: Breakout, restarts: int | None = None) -> InFlight:
    res = resources_of(row)
    recorded = (("share", res.share_arn), ("attachment", res.attachment_id),
                ("association", res.associated_route_table_id), ("routes", res.routes),
                ("customer_gateway", res.customer_gateway_id),
                ("vpn_connection", res.vpn_connection_id),
                ("customer_gateway_2", res.customer_gateway_id_2),
                ("vpn_connection_2", res.vpn_connection_id_2))
    owns = tuple(name for name, value in recorded if value)
    return InFlight(row.id, row.revision, row.status_id, bool(row.delete_requested),
                    restartable(row, restarts), row.region, row.org_id, owns)  # fmt: skip


def expected_attachment(session: Session, region: str, owner: str, attachment_id: str) -> bool:
    """Does some breakout wait for an attachment of ``owner``, or own this one already?"""
    for row in service.breakouts_of_account(session=session, region=region, account_id=owner):
        if row.attachment_id == attachment_id:
            return True
        waiting = row.status in (Status.PENDING_CUSTOMER_ACTION, Status.PENDING_AWS_ACTIVATION)
        if waiting and not row.expired and not row.delete_requested:
            return True
    return False


def note_rejected(session: Session, region: str, owner: str, attachment_id: str) -> bool:
    """Record a rejected unexpected attachment on the account's newest breakout, if any."""
    rows = service.breakouts_of_account(session=session, region=region, account_id=owner)
    # Only a breakout whose invitation this account accepted: an organisation that merely
    # names the account (perhaps not its own) learns nothing about the account's attachments.
    rows = [r for r in rows if r.accept_attachment_expiry_date is not None or r.attachment_id]
    if not rows:
        return False
    service.record_note(session=session, row=rows[0], severity=1,
                        description=f"Rejected attachment {attachment_id} of account {owner}: "
                                    "no breakout of this account expects an attachment",
                        detail={"attachment_id": attachment_id, "account": owner})  # fmt: skip
    return True


def revision_of(breakout_id: int) -> Callable[[Session], int]:
    def read(session: Session) -> int:
        return _row(session, breakout_id).revision

    return read
