"""Audit: the cloud compared with what the breakout rows own. Pure: values in, findings out.

Ownership. A breakout row owns what it records (share, attachment, association, routes);
the region owns what bootstrap built (the core attachment in the core table, the device
route in the customers table). Everything else on the TGW, and every RAM share of its ARN,
is *unowned*. Resources of a breakout whose workflow is still running (statuses 1-4, 6, 8)
are owned but not judged: the workflow is creating or removing them right now, and a
repair would race it.

Desired state (Active breakouts only): its share lists its account as a principal (TGW
breakouts; a VPN breakout has no share); its attachment is live and associated with the
customers table; the core table has one static route per CIDR to it. No propagation into
the core or customers table (bootstrap disables them; a propagation leaks a VPC's CIDRs to
every table member).

Installations. Several installations may use one provider account, each with its own TGW.
A share of this TGW that another installation made (its ``linkplane:installation`` tag, or an
untagged pre-0007 one this database has no breakout for: see
:class:`~linkplane.isolation.state.Ownership`) is ``foreign_share`` and never repaired; with
one present the TGW is shared, so nothing else unowned on it is repaired either (it may be
the other installation's).

Codes (stable): ``unowned_share``, ``foreign_share``, ``unowned_principal``,
``unowned_attachment``, ``unowned_association``, ``unowned_route``, ``unowned_propagation``,
``missing_share``, ``missing_principal``, ``missing_attachment``, ``missing_association``,
``missing_route``, ``changed_association``, ``changed_route``, ``missing_tgw`` (the region's
TGW itself is gone; nothing else is judged on it), ``missing_peering``,
``undeclared_vpn_route`` (a core route to a VPN attachment for a prefix its breakout did not
declare: BGP containment), ``unowned_vpn_connection`` and ``unowned_customer_gateway`` (below).

VPN leftovers. A VPN connection on the TGW or a customer gateway tagged with this
installation's id and a ``linkplane:breakout`` is stale when that breakout does not exist, is
Deactivated, or records other ids (a crashed or failed cleanup, a create retried after a lost
answer). Repair deletes the connection first (its ``vpn`` attachment goes with it), then the
gateway (AWS refuses it while a connection still uses it). Untagged resources, other
installations' and those of a breakout whose workflow is provisioning or tearing it down
(statuses 1-4, 6, 8: it may have made a resource and not recorded it yet) are never judged.

Regions and peerings. A region also owns its peerings (``linkplane region peer``): each
peering attachment, its association with the region's peering table, the peer's pool in the
customers table and the own pool in the peering table. Breakouts own their cross-region routes
(the core table of their devices' region, the peering table of their attachment region; a
VPN breakout's lead to its routed connection there, as its core routes do). A
recorded peering that is not available (deleted or rejected behind linkplane's back) is
``missing_peering``: repair cannot bring it back; ``region peer`` can. Each finding carries the
:class:`Fix` that ``--repair`` applies, or none when only the customer can fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from linkplane.attachments.crossregion import RemoteRoute
from linkplane.attachments.models import BREAKOUT_TAG, Status
from linkplane.cloud.port import ResourceShare, ShareAssociation, TgwRoute
from linkplane.installation.tags import TAG as INSTALLATION_TAG
from linkplane.installation.tags import Owner, owner_of
from linkplane.isolation.state import (
    IN_FLIGHT,
    CloudState,
    OwnedBreakout,
    Ownership,
    RegionSpec,
    VpnRecord,
)

GONE = frozenset({"deleting", "deleted", "rejecting", "rejected", "failing", "failed"})
_LIVE_ASSOC = frozenset({"associating", "associated"})
_LIVE_PRINCIPAL = frozenset({"ASSOCIATING", "ASSOCIATED"})


class FixOp(StrEnum):
    """What repair does; the order of the members is the order repairs run in (routes are
    pointed right before attachments and shares go, so traffic never takes a dead end)."""

    DISABLE_PROPAGATION = "disable_propagation"
    DISASSOCIATE = "disassociate"
    ASSOCIATE = "associate"
    DELETE_ROUTE = "delete_route"
    PUT_ROUTE = "put_route"
    DISASSOCIATE_PRINCIPAL = "disassociate_principal"
    ASSOCIATE_PRINCIPAL = "associate_principal"
    REMOVE_ATTACHMENT = "remove_attachment"
    DELETE_SHARE = "delete_share"
    DELETE_VPN_CONNECTION = "delete_vpn_connection"
    DELETE_CUSTOMER_GATEWAY = "delete_customer_gateway"


@dataclass(frozen=True)
class Fix:
    op: FixOp
    args: tuple[tuple[str, str], ...]

    def kwargs(self) -> dict[str, str]:
        return dict(self.args)

    def describe(self) -> str:
        return f"{self.op.value} " + " ".join(f"{k}={v}" for k, v in self.args)


def fix(op: FixOp, **args: str) -> Fix:
    return Fix(op, tuple(sorted(args.items())))


@dataclass(frozen=True)
class Drift:
    """One difference. ``fixes`` is empty when repair cannot fix it (``message`` says who)."""

    code: str
    region: str
    resource: str
    message: str
    breakout_id: int | None = None
    org_id: int | None = None
    fixes: tuple[Fix, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "region": self.region, "resource": self.resource,
            "message": self.message, "breakout_id": self.breakout_id, "org_id": self.org_id,
            "repair": [f.describe() for f in self.fixes],
        }  # fmt: skip


@dataclass
class _Ctx:
    region: RegionSpec
    cloud: CloudState
    breakouts: list[OwnedBreakout]
    ownership: Ownership
    out: list[Drift] = field(default_factory=list)
    #: Routes in this region's tables for devices here of breakouts attached elsewhere (or
    #: routes here from the peering to breakouts attached here), with their breakout.
    remote: list[tuple[RemoteRoute, OwnedBreakout]] = field(default_factory=list)

    @property
    def active(self) -> list[OwnedBreakout]:
        return [b for b in self.breakouts if b.active]

    def add(self, code: str, resource: str, message: str, *fixes: Fix,
            breakout: OwnedBreakout | None = None) -> None:  # fmt: skip
        self.out.append(Drift(
            code, self.region.name, resource, message,
            breakout.id if breakout else None, breakout.org_id if breakout else None, fixes,
        ))  # fmt: skip


def audit(
    region: RegionSpec, cloud: CloudState, breakouts: Iterable[OwnedBreakout], ownership: Ownership
) -> list[Drift]:
    """Every drift of ``region``'s TGW and shares from what ``breakouts`` own and want
    (``breakouts`` of every region: those attached elsewhere may own routes here)."""
    everyone = list(breakouts)
    ctx = _Ctx(region, cloud, [b for b in everyone if b.region == region.name], ownership)
    ctx.remote = [(r, b) for b in everyone for r in b.crossregion
                  if r.region == region.name and r.kind == "tgw"]  # fmt: skip
    shared = _shares(ctx)
    _attachments(ctx)
    _peerings(ctx)
    _associations(ctx)
    contained = _vpn_routes(ctx)
    core_remote, core_busy = _remote_routes(ctx, region.core_table_id)
    _routes(ctx, region.core_table_id, {**_core_routes(ctx), **core_remote},
            _in_flight_core_cidrs(ctx) | core_busy | contained)  # fmt: skip
    customers = {region.device_cidr: region.core_attachment_id}
    customers.update({p.peer_device_cidr: p.attachment_id for p in region.peerings})
    _routes(ctx, region.customers_table_id, customers, set())
    if region.peering_table_id:
        remote, busy = _remote_routes(ctx, region.peering_table_id)
        own = {region.device_cidr: region.core_attachment_id}
        _routes(ctx, region.peering_table_id, {**own, **remote}, busy)
    _propagations(ctx)
    _vpn_leftovers(ctx)
    return [_report_only(d) for d in ctx.out] if shared else ctx.out


def missing_tgw(region: RegionSpec, breakouts: Iterable[OwnedBreakout]) -> list[Drift]:
    """The region's transit gateway is gone (deleted behind linkplane's back, or an embedded
    cloud that lost its state): one finding per breakout standing on it (Active or in
    flight), or one for the region when none does. Nothing is judged further on a TGW that
    does not exist, and nothing is repairable by ``--repair``: ``region bootstrap`` builds a
    new TGW; the breakouts on the old one must be deleted and created again."""
    standing = [b for b in breakouts
                if b.region == region.name and (b.active or b.in_flight)]  # fmt: skip
    what = (f"transit gateway {region.tgw_id} of region {region.name} does not exist (deleted "
            "outside linkplane, or the embedded cloud lost its state)")  # fmt: skip
    todo = "; run `linkplane region bootstrap` for a new one"
    if not standing:
        return [Drift("missing_tgw", region.name, region.tgw_id, what + todo)]
    return [Drift("missing_tgw", region.name, region.tgw_id,
                  f"{what}: breakout {b.id} ({b.status.name}) has no network{todo}, then "
                  "delete the breakout and create it again", b.id, b.org_id)
            for b in standing]  # fmt: skip


#: Still repaired on a shared TGW: an own share's extra principal, and VPN leftovers (they
#: carry this installation's tag, so they are not the other installation's).
_OWN_TAGGED = frozenset({"unowned_principal", "unowned_vpn_connection",
                         "unowned_customer_gateway"})  # fmt: skip


def _report_only(d: Drift) -> Drift:
    """On a TGW another installation uses too, what no breakout here owns may be its: report
    it, never remove it (an own share's extra principal is still ours to remove)."""
    if not d.code.startswith("unowned_") or d.code in _OWN_TAGGED:
        return d
    note = " (not repaired: another installation uses this transit gateway too)"
    return replace(d, message=d.message + note, fixes=())


# --- RAM ------------------------------------------------------------------------------------
def _shares(ctx: _Ctx) -> bool:
    """Shares of the TGW; returns whether another installation's share is among them."""
    live = {s.arn: s for s in ctx.cloud.shares}
    of_tgw = {a.share_arn for a in ctx.cloud.share_resources
              if a.associated_entity == ctx.region.tgw_arn and a.status in _LIVE_PRINCIPAL}
    owned = {b.share_arn: b for b in ctx.breakouts if b.share_arn}
    busy = {str(b.id) for b in ctx.breakouts if b.in_flight}
    shared_with = _accounts_by_share(ctx.cloud.principals)
    foreign = False
    for arn in sorted(of_tgw & live.keys() - owned.keys()):
        share = live[arn]
        other = _other_installation(ctx.ownership, share, shared_with.get(arn, set()))
        if other:
            foreign = True
            ctx.add("foreign_share", arn, f"resource share {arn} ({share.name}) of {other} "
                    f"shares this installation's transit gateway {ctx.region.tgw_id}; not "
                    "deleted: give each installation a transit gateway of its own")  # fmt: skip
        elif share.tags.get(BREAKOUT_TAG) not in busy:
            ctx.add("unowned_share", arn, f"resource share {arn} shares the transit gateway "
                    f"{ctx.region.tgw_id} but no breakout owns it",
                    fix(FixOp.DELETE_SHARE, share_arn=arn))  # fmt: skip
    for b in ctx.active:
        if b.vpn:
            continue  # a VPN breakout shares nothing (its connection is on the own TGW)
        if b.share_arn is None or b.share_arn not in live:
            ctx.add("missing_share", b.share_arn or "-", f"breakout {b.id}'s resource share "
                    f"{b.share_arn} is gone; the attachment still works, but the customer needs "
                    "a new invitation to attach again (delete and re-create the breakout)",
                    breakout=b)  # fmt: skip
    _principals(ctx, live.keys(), owned)
    return foreign


def _accounts_by_share(principals: Iterable[ShareAssociation]) -> dict[str, set[str]]:
    """Every account each share was ever shared with (any status: a left principal counts)."""
    out: dict[str, set[str]] = {}
    for a in principals:
        out.setdefault(a.share_arn, set()).add(a.associated_entity)
    return out


def _other_installation(ownership: Ownership, share: ResourceShare, accounts: set[str]) -> str:
    """Whose ``share`` is when it is not this installation's to judge, else "".

    Untagged breakout shares predate installation ids: this database's when it recorded that
    breakout for one of the share's accounts. Otherwise (the same breakout id in another
    database) it is not ours, and deleting it would cut off another installation's customer.
    """
    owner = owner_of(share.tags, ownership.installation)
    if owner is Owner.OTHER:
        return f"installation {share.tags[INSTALLATION_TAG]}"
    breakout = share.tags.get(BREAKOUT_TAG)
    if owner is Owner.MINE or breakout is None:  # no linkplane tag: made by hand, judged
        return ""
    if breakout.isdigit() and ownership.accounts.get(int(breakout)) in accounts:
        return ""
    return f"an installation from before installation ids (breakout {breakout} is not this one's)"


def _principals(ctx: _Ctx, live: Iterable[str], owned: dict[str, OwnedBreakout]) -> None:
    live_set = set(live)
    seen: set[tuple[str, str]] = set()
    for a in ctx.cloud.principals:
        b = owned.get(a.share_arn)
        if b is None or a.status not in _LIVE_PRINCIPAL or b.in_flight:
            continue
        seen.add((a.share_arn, a.associated_entity))
        if a.associated_entity != b.account:
            ctx.add("unowned_principal", f"{a.share_arn}#{a.associated_entity}",
                    f"account {a.associated_entity} is a principal of breakout {b.id}'s share; "
                    f"only {b.account} should be",
                    fix(FixOp.DISASSOCIATE_PRINCIPAL, share_arn=a.share_arn,
                        principal=a.associated_entity), breakout=b)  # fmt: skip
    for b in ctx.active:
        if b.share_arn in live_set and (b.share_arn, b.account) not in seen:
            ctx.add("missing_principal", f"{b.share_arn}#{b.account}",
                    f"account {b.account} is no longer a principal of breakout {b.id}'s share "
                    "(repair re-invites it; the customer must accept again)",
                    fix(FixOp.ASSOCIATE_PRINCIPAL, share_arn=str(b.share_arn),
                        principal=b.account), breakout=b)  # fmt: skip


# --- attachments and associations -----------------------------------------------------------
def _attachments(ctx: _Ctx) -> None:
    owned = {a for b in ctx.breakouts for a in b.attachment_ids}
    vpns = {v for b in ctx.breakouts for v in (b.vpn_connection_id, b.vpn_connection_id_2) if v}
    owned |= {p.attachment_id for p in ctx.region.peerings}
    waiting = {b.account for b in ctx.breakouts if b.in_flight and not b.attachment_id}
    live = {a.id: a for a in ctx.cloud.attachments if a.state not in GONE}
    for att in sorted(live.values(), key=lambda a: a.id):
        if att.id == ctx.region.core_attachment_id or att.id in owned:
            continue
        if att.resource_type == "vpn" and att.resource_id in vpns:
            continue  # its breakout's workflow records it once the connection is available
        if att.state == "pendingAcceptance" and att.resource_owner_id in waiting:
            continue  # a provisioning workflow is about to claim it
        # A VPN attachment goes with its VPN connection (DeleteVpnConnection): report only.
        remove = () if att.resource_type == "vpn" else (
            fix(FixOp.REMOVE_ATTACHMENT, attachment_id=att.id),)  # fmt: skip
        goes = (f"; it goes with VPN connection {att.resource_id}"
                if att.resource_type == "vpn" else "")  # fmt: skip
        ctx.add("unowned_attachment", att.id, f"{att.resource_type} attachment {att.id} of "
                f"account {att.resource_owner_id} ({att.state}) belongs to no breakout{goes}",
                *remove)  # fmt: skip
    for b in ctx.active:
        for owned_id in b.attachment_ids or (None,):
            if owned_id not in live:
                ctx.add("missing_attachment", owned_id or "-", f"breakout {b.id}'s attachment "
                        f"{owned_id} is gone; the breakout sweep deactivates it (the customer must "
                        "attach again)", breakout=b)  # fmt: skip


def _peerings(ctx: _Ctx) -> None:
    """Each recorded peering must be live and available: a peering deleted or rejected
    behind linkplane's back leaves the breakouts that route over it without a path."""
    seen = {a.id: a.state for a in ctx.cloud.attachments}
    for p in ctx.region.peerings:
        state = seen.get(p.attachment_id, "deleted")
        if state == "available":
            continue
        users = {b.id: b for r, b in ctx.remote if r.target == p.attachment_id}
        users |= {b.id: b for b in ctx.breakouts for r in b.crossregion
                  if r.target == p.attachment_id}  # fmt: skip
        who = ", ".join(f"breakout {i}" for i in sorted(users)) or "no breakout yet"
        text = (f"the peering {p.attachment_id} with {p.peer_region} is {state}; devices "
                f"there cannot reach customers here (affected: {who}). Run: linkplane region "
                f"peer --region {ctx.region.name} --peer-region {p.peer_region}; then audit "
                "--repair points their routes at the new peering")  # fmt: skip
        # One finding per affected breakout, so its organisation learns of it (repair
        # records a "Breakout degraded" event); one for the region when none is affected.
        affected: list[OwnedBreakout | None] = [users[i] for i in sorted(users)]
        for b in affected or [None]:
            ctx.add("missing_peering", p.attachment_id, text, breakout=b)


def _remote_routes(ctx: _Ctx, table: str) -> tuple[dict[str, str], set[str]]:
    """Cross-region routes of ``table``: wanted (Active breakouts) and in flight."""
    peering_to = {p.peer_region: p.attachment_id for p in ctx.region.peerings}
    want = {
        # a route to a peering goes to the current peering of the two regions (a peering
        # made again after it was deleted has a new id)
        r.cidr: peering_to.get(b.region, r.target) if table == ctx.region.core_table_id
        else r.target
        for r, b in ctx.remote if r.route_table_id == table and b.active
    }  # fmt: skip
    busy = {r.cidr for r, b in ctx.remote if r.route_table_id == table and b.in_flight}
    return want, busy


def _associations(ctx: _Ctx) -> None:
    assoc = {a.attachment_id: a.route_table_id for a in ctx.cloud.associations
             if a.state in _LIVE_ASSOC}  # fmt: skip
    want: dict[str, tuple[str, OwnedBreakout | None]] = {
        ctx.region.core_attachment_id: (ctx.region.core_table_id, None)
    }
    live = {a.id for a in ctx.cloud.attachments if a.state not in GONE}
    for owned in ctx.active:
        for att in owned.attachment_ids:
            if att in live:
                want[att] = (ctx.region.customers_table_id, owned)
    if ctx.region.peering_table_id:
        for p in ctx.region.peerings:
            if p.attachment_id in live:
                want[p.attachment_id] = (ctx.region.peering_table_id, None)
    skip = {a for b in ctx.breakouts if b.in_flight for a in b.attachment_ids}
    for att, table in sorted(assoc.items()):
        if att in want or att in skip:
            continue
        ctx.add("unowned_association", f"{table}#{att}", f"attachment {att} is associated "
                f"with route table {table} but no breakout owns that association",
                fix(FixOp.DISASSOCIATE, route_table_id=table, attachment_id=att))  # fmt: skip
    for att, (table, breakout) in want.items():
        _judge_association(ctx, att, table, assoc.get(att), breakout)


def _judge_association(ctx: _Ctx, att: str, table: str, got: str | None,
                       b: OwnedBreakout | None) -> None:  # fmt: skip
    core = att == ctx.region.core_attachment_id
    who = (f"breakout {b.id}'s attachment {att}" if b else
           f"the core attachment {att}" if core else f"the peering {att}")  # fmt: skip
    associate = fix(FixOp.ASSOCIATE, route_table_id=table, attachment_id=att)
    if got is None:
        ctx.add("missing_association", f"{table}#{att}",
                f"{who} is not associated with route table {table}", associate, breakout=b)
    elif got != table:
        ctx.add("changed_association", f"{got}#{att}", f"{who} is associated with {got} "
                f"instead of {table}", fix(FixOp.DISASSOCIATE, route_table_id=got,
                attachment_id=att), associate, breakout=b)  # fmt: skip


# --- routes and propagations -----------------------------------------------------------------
def _core_routes(ctx: _Ctx) -> dict[str, str]:
    return {c: str(b.routed_attachment_id or b.attachment_id) for b in ctx.active
            if b.attachment_id for c in b.cidrs}  # fmt: skip


def _in_flight_core_cidrs(ctx: _Ctx) -> set[str]:
    return {c for b in ctx.breakouts if b.in_flight for c in (*b.routes, *b.cidrs)}


def _routes(ctx: _Ctx, table: str, want: dict[str, str], skip: set[str]) -> None:
    """Static routes of ``table`` against ``want`` (CIDR -> attachment)."""
    got: dict[str, TgwRoute] = {
        r.cidr: r for r in ctx.cloud.routes.get(table, []) if r.type == "static"
    }
    owner = {c: b for b in ctx.active for c in b.cidrs}
    for cidr, route in sorted(got.items()):
        if cidr in want or cidr in skip:
            continue
        target = ",".join(route.attachment_ids) or "blackhole"
        ctx.add("unowned_route", f"{table}#{cidr}", f"static route {cidr} -> {target} in "
                f"table {table} belongs to no breakout",
                fix(FixOp.DELETE_ROUTE, route_table_id=table, cidr=cidr))  # fmt: skip
    for cidr, att in sorted(want.items()):
        put = fix(FixOp.PUT_ROUTE, route_table_id=table, cidr=cidr, attachment_id=att)
        found = got.get(cidr)
        b = owner.get(cidr)
        if found is None:
            ctx.add("missing_route", f"{table}#{cidr}", f"static route {cidr} -> {att} is "
                    f"missing from table {table}", put, breakout=b)  # fmt: skip
        elif found.attachment_ids != (att,) or found.state != "active":
            now = ",".join(found.attachment_ids) or "nowhere"
            ctx.add("changed_route", f"{table}#{cidr}", f"static route {cidr} in table "
                    f"{table} points to {now} ({found.state}) instead of {att}", put,
                    breakout=b)  # fmt: skip


def _vpn_routes(ctx: _Ctx) -> set[str]:
    """BGP containment: a core route (static or propagated) to a VPN attachment for a prefix
    its breakout did not declare lets the customer's router draw other traffic (another
    customer's range, a more specific of the device range). Returns the CIDRs it reported."""
    vpn = {a.id for a in ctx.cloud.attachments if a.resource_type == "vpn"}
    declared = {(att, c) for b in ctx.breakouts for att in b.attachment_ids
                for c in (*b.cidrs, *b.routes)}  # fmt: skip
    table, found = ctx.region.core_table_id, set()
    for route in sorted(ctx.cloud.routes.get(table, []), key=lambda r: r.cidr):
        for att in set(route.attachment_ids) & vpn:
            if (att, route.cidr) in declared:
                continue
            found.add(route.cidr)
            fixes = [fix(FixOp.DELETE_ROUTE, route_table_id=table, cidr=route.cidr)]
            ctx.add("undeclared_vpn_route", f"{table}#{route.cidr}", f"{route.type} route "
                    f"{route.cidr} -> VPN attachment {att} in the core table: its breakout did "
                    "not declare this prefix (only declared on_prem_cidr may reach the core)",
                    *(fixes if route.type == "static" else []))  # fmt: skip
    return found


def _propagations(ctx: _Ctx) -> None:
    ours = {ctx.region.core_table_id, ctx.region.customers_table_id}
    if ctx.region.peering_table_id:
        ours.add(ctx.region.peering_table_id)
    for p in ctx.cloud.propagations:
        if p.route_table_id in ours and p.state in ("enabled", "enabling"):
            ctx.add("unowned_propagation", f"{p.route_table_id}#{p.attachment_id}",
                    f"attachment {p.attachment_id} propagates its CIDRs into route table "
                    f"{p.route_table_id}; every attachment associated with it can reach them",
                    fix(FixOp.DISABLE_PROPAGATION, route_table_id=p.route_table_id,
                        attachment_id=p.attachment_id))  # fmt: skip


# --- VPN leftovers ---------------------------------------------------------------------------
_GONE_VPN = frozenset({"deleting", "deleted"})


def _vpn_leftovers(ctx: _Ctx) -> None:
    """The installation's tagged VPN connections and customer gateways no breakout records
    (see the module docstring); a gateway is deleted after the connections that use it."""
    users: dict[str, list[str]] = {}
    for v in sorted(ctx.cloud.vpn_connections, key=lambda v: v.id):
        if v.state in _GONE_VPN:
            continue
        users.setdefault(v.customer_gateway_id, []).append(v.id)
        why = _stale(ctx.ownership, v.tags, v.id, lambda r: r.vpn_connection_ids)
        if why:
            ctx.add("unowned_vpn_connection", v.id, f"VPN connection {v.id} ({v.state}) on "
                    f"{ctx.region.tgw_id} is tagged as linkplane's but {why}",
                    fix(FixOp.DELETE_VPN_CONNECTION, vpn_connection_id=v.id))  # fmt: skip
    stale_vpns = {d.resource for d in ctx.out if d.code == "unowned_vpn_connection"}
    for g in sorted(ctx.cloud.customer_gateways, key=lambda g: g.id):
        why = _stale(ctx.ownership, g.tags, g.id, lambda r: r.customer_gateway_ids)
        used = users.get(g.id, [])
        if not why or set(used) - stale_vpns:
            continue  # owned, or a connection that stays uses it (AWS would refuse anyway)
        after = {"after_vpn_connections": ",".join(used)} if used else {}
        ctx.add("unowned_customer_gateway", g.id, f"customer gateway {g.id} ({g.public_ip}, "
                f"ASN {g.asn}) is tagged as linkplane's but {why}",
                fix(FixOp.DELETE_CUSTOMER_GATEWAY, customer_gateway_id=g.id, **after))  # fmt: skip


def _stale(ownership: Ownership, tags: dict[str, str], resource_id: str,
           recorded: Callable[[VpnRecord], frozenset[str]]) -> str:  # fmt: skip
    """Why a tagged resource belongs to no breakout, or "" when it is owned or not ours to
    judge (another installation's, no breakout tag, or its breakout's workflow is running)."""
    breakout = tags.get(BREAKOUT_TAG, "")
    if tags.get(INSTALLATION_TAG) != ownership.installation or not breakout.isdigit():
        return ""
    record = ownership.vpn.get(int(breakout))
    if record is None:
        return f"its breakout {breakout} does not exist"
    if record.status in IN_FLIGHT:
        return ""  # the workflow may have made it and not recorded it yet
    if record.status is Status.DEACTIVATED:
        return f"its breakout {breakout} is Deactivated"
    if resource_id in recorded(record):
        return ""
    others = ", ".join(sorted(recorded(record))) or "none"
    return f"its breakout {breakout} records another one ({others})"
