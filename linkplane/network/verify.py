"""The isolation verifier: TGW routing plus the core policy against what should be.

Entry point: :func:`verify` ``(topology, intent, policy=...) -> Report``; ``Report.ok``,
``Report.findings``, ``Report.to_text()``, ``Report.to_json()``. The CLI builds the
:class:`~linkplane.network.routing.Topology` with ``Topology.from_reads`` and the
:class:`Intent` from the database, and exits non-zero when ``not report.ok``.

What is checked, and why it covers every (organisation device range, customer CIDR) pair:

- Intended paths (routing layer). Devices of org X enter the TGW through the core attachment,
  whose table must send each CIDR of X's Active breakouts to X's attachment; X's attachment
  must be associated with the customers table, which must send X's device ranges to the
  core attachment. Each hop is judged with AWS's route evaluation on whole CIDRs.
- Cross-organisation paths. Customer-to-customer traffic can only flow through a route in
  the customers table to a customer attachment, or through a customer attachment associated
  with the core table: both are audited route by route. Between X's CIDR and Y's devices,
  routing *always* connects (the core table reaches every customer, the customers table the
  whole device space): only the core policy separates them. So a cross-org pair is open
  iff the policy gives a device of Y X's mark or lists one of Y's CIDRs under X -- exactly
  what the policy checks look for, per entry, without enumerating org pairs.
- Regions. With several core regions a breakout serves the devices of some pools only (its
  attachment region's and those its routes over a peering reach): the policy must list its
  CIDRs in ``regional_space`` and each under exactly those pools (``pool_cidrs``);
  ``policy_allows_other_region`` is a CIDR open to a pool no breakout serves it to, or to
  every pool.
- Route audit. Any other route in the core table that overlaps a customer CIDR (more or less
  specific, a blackhole inside it) or matches no Active breakout is reported.

Findings carry a stable ``code`` and the ``layer`` that fails (``routing``,
``association`` or ``policy``). Cost: O(routes + CIDRs x 33 + policy entries).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from ipaddress import IPv4Network
from typing import Any

from linkplane.network.cidrs import NamedRange, RangeIndex, as_network, ip_str
from linkplane.network.policy import Breakout, CorePolicy, DeviceMap, Endpoint
from linkplane.network.routing import Route, RouteTable, RouteType, Topology

ROUTING, ASSOCIATION, POLICY = "routing", "association", "policy"


@dataclass(frozen=True)
class Finding:
    """One violation. ``code`` is stable for machines, ``message`` a sentence for people."""

    code: str
    layer: str
    message: str
    table_id: str | None = None
    cidr: str | None = None
    attachment_id: str | None = None
    orgs: tuple[int, ...] = ()


@dataclass
class Report:
    findings: list[Finding]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def by_code(self) -> dict[str, int]:
        return dict(sorted(Counter(f.code for f in self.findings).items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "violations_by_code": self.by_code(),
            "findings": [asdict(f) for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def to_text(self, *, per_code: int = 20) -> str:
        """A readable report; at most ``per_code`` findings of each code are spelled out."""
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        lines = [f"checked: {counts}"]
        if self.ok:
            lines.append("OK: every intended path exists and no path crosses organisations.")
            return "\n".join(lines)
        lines.append(f"FAILED: {len(self.findings)} violation(s)")
        shown: Counter[str] = Counter()
        for f in self.findings:
            shown[f.code] += 1
            if shown[f.code] <= per_code:
                lines.append(f"  [{f.layer}] {f.code}: {f.message}")
        for code, n in self.by_code().items():
            if n > per_code:
                lines.append(f"  ... and {n - per_code} more {code}")
        return "\n".join(lines)


@dataclass
class Intent:
    """What the network should look like, from the database and settings.

    ``device_ranges`` maps an organisation to its device address ranges; organisations not
    in it are taken to use the whole ``device_space``. ``fleet`` is every endpoint (eligible
    or not) and is needed for the policy checks: it says who owns each device address.
    """

    core_attachment_id: str
    core_table_id: str
    customers_table_id: str
    breakouts: Sequence[Breakout]
    device_space: Sequence[IPv4Network] = (IPv4Network("100.64.0.0/10"),)
    device_ranges: Mapping[int, Sequence[IPv4Network]] = field(default_factory=dict)
    core_vpc: IPv4Network | None = None
    fleet: Sequence[Endpoint] = ()
    #: Routes over region peerings this region's tables hold by design, network -> peering
    #: attachment: in the core table, CIDRs of breakouts attached elsewhere serving devices
    #: here; in the customers table, the peer regions' device pools. They are judged hop by
    #: hop by :mod:`linkplane.network.crossregion`, not reported as stray routes here.
    remote_core_routes: Mapping[IPv4Network, str] = field(default_factory=dict)
    peer_pool_routes: Mapping[IPv4Network, str] = field(default_factory=dict)
    #: Breakouts attached elsewhere that this region's devices reach over a peering: the
    #: (one, shared) core policy lets their organisations' devices here reach their CIDRs.
    remote_breakouts: Sequence[Breakout] = ()
    #: ``fleet``'s :class:`DeviceMap`, when the caller verifies several regions: computed
    #: once per run and shared, since the one gateway's device map is the same in each.
    devices: DeviceMap | None = None

    def device_map(self) -> DeviceMap:
        if self.devices is None:
            self.devices = DeviceMap.of(self.fleet)
        return self.devices

    @property
    def active(self) -> list[Breakout]:
        return [b for b in self.breakouts if b.active]

    def ranges_of(self, org_id: int) -> Sequence[IPv4Network]:
        return self.device_ranges.get(org_id, self.device_space)


def verify(topology: Topology, intent: Intent, *, policy: CorePolicy | None = None) -> Report:
    """Check ``topology`` and the core policy against ``intent``; see the module docstring.

    ``policy`` is the policy in force (e.g. parsed from the gateway); when None the policy
    computed from ``intent`` is assumed to be in force, and only routing is really judged.
    """
    devices = intent.device_map()
    expected = CorePolicy.compute(
        (), [*intent.breakouts, *intent.remote_breakouts], devices=devices
    )
    actual = policy if policy is not None else expected
    cidr_index = _cidr_index(intent)
    findings: list[Finding] = []
    findings += check_associations(topology, intent)
    findings += check_forward_paths(topology, intent)
    findings += check_return_paths(topology, intent)
    findings += audit_core_table(topology, intent, cidr_index)
    findings += audit_customers_table(topology, intent)
    findings += check_policy(actual, expected, intent, cidr_index)
    return Report(findings, _counts(topology, intent, actual))


def _counts(topology: Topology, intent: Intent, actual: CorePolicy) -> dict[str, int]:
    """What was checked. ``intended_pairs`` are (own device range, own CIDR) pairs that must
    connect; ``cross_org_pairs`` are the (device range, CIDR) pairs of different
    organisations that must not, judged through the route audits and the policy entries."""
    orgs = {b.org_id for b in intent.active}
    ranges = {org: len(intent.ranges_of(org)) for org in orgs}
    total_ranges = sum(ranges.values())
    cidrs_of: dict[int, int] = {}
    for b in intent.active:
        cidrs_of[b.org_id] = cidrs_of.get(b.org_id, 0) + len(b.cidrs)
    intended = sum(ranges[org] * n for org, n in cidrs_of.items())
    cross = sum((total_ranges - ranges[org]) * n for org, n in cidrs_of.items())
    return {
        "organisations": len({b.org_id for b in intent.breakouts}),
        "active_breakouts": len(intent.active),
        "cidrs": sum(len(b.cidrs) for b in intent.active),
        "routes": topology.route_count(),
        "devices": len(intent.fleet),
        "policy_devices": len(actual.device_org),
        "intended_pairs": intended,
        "cross_org_pairs": cross,
    }


# --- helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owned:
    org_id: int | None
    breakout: Breakout | None
    network: IPv4Network
    what: str


def _cidr_index(intent: Intent) -> tuple[RangeIndex, dict[str, _Owned]]:
    """Active breakout CIDRs, device ranges and the core VPC, indexed for overlap queries."""
    owned: dict[str, _Owned] = {}
    for b in intent.active:
        for c in b.cidrs:
            net = as_network(c)
            owned[f"b{len(owned)}"] = _Owned(b.org_id, b, net, f"org {b.org_id}'s {net}")
    for net in intent.device_space:
        owned[f"d{len(owned)}"] = _Owned(None, None, net, f"the device space {net}")
    if intent.core_vpc is not None:
        owned["core"] = _Owned(None, None, intent.core_vpc, f"the core VPC {intent.core_vpc}")
    index = RangeIndex(NamedRange(k, o.network) for k, o in owned.items())
    return index, owned


def _target_label(topology: Topology, route: Route) -> str:
    labels = []
    for att_id in route.attachment_ids:
        att = topology.attachments.get(att_id)
        labels.append(att.label() if att else f"unknown attachment {att_id}")
    return " and ".join(labels) or "nowhere"


def _orgs_of(topology: Topology, route: Route) -> set[int]:
    orgs = set()
    for att_id in route.attachment_ids:
        att = topology.attachments.get(att_id)
        if att is not None and att.org_id is not None:
            orgs.add(att.org_id)
    return orgs


def _table(topology: Topology, table_id: str) -> RouteTable:
    return topology.tables.get(table_id) or RouteTable(table_id, ())


# --- associations ----------------------------------------------------------------------------


def check_associations(topology: Topology, intent: Intent) -> list[Finding]:
    """The core attachment in the core table; every Active customer in the customers table;
    nothing but the core attachment in the core table (it reaches every customer)."""
    out: list[Finding] = []
    core = intent.core_attachment_id
    got = topology.associations.get(core)
    if got != intent.core_table_id:
        want = f"the core table {intent.core_table_id}"
        out.append(_wrong_assoc(intent, core, got, want, "the core attachment", ()))
    for b in intent.active:
        if b.attachment_id is None or b.attachment_id not in topology.attachments:
            out.append(_missing_attachment(b))
            continue
        got = topology.associations.get(b.attachment_id)
        if got != intent.customers_table_id:
            who = f"org {b.org_id}'s attachment (breakout {b.id})"
            want = f"the customers table {intent.customers_table_id}"
            out.append(_wrong_assoc(intent, b.attachment_id, got, want, who, (b.org_id,)))
    known = {intent.core_attachment_id} | {b.attachment_id for b in intent.active}
    for att_id, table_id in sorted(topology.associations.items()):
        if table_id == intent.core_table_id and att_id not in known:
            att = topology.attachments.get(att_id)
            label = att.label() if att else f"attachment {att_id}"
            orgs = (att.org_id,) if att and att.org_id is not None else ()
            want = "only the core attachment there"
            out.append(_wrong_assoc(intent, att_id, table_id, want, label, orgs))
    return out


def _missing_attachment(b: Breakout) -> Finding:
    return Finding(
        "missing_attachment",
        ROUTING,
        f"breakout {b.id} of org {b.org_id} is Active but its attachment "
        f"{b.attachment_id} is not on the Transit Gateway",
        attachment_id=b.attachment_id,
        orgs=(b.org_id,),
    )


def _wrong_assoc(
    intent: Intent, att_id: str, got: str | None, want: str, who: str, orgs: tuple[int, ...]
) -> Finding:
    now = f"associated with {got}" if got else "not associated with any route table"
    if got == intent.core_table_id and att_id != intent.core_attachment_id:
        risk = "; through the core table it can reach every customer's CIDRs"
    elif got is None:
        risk = "; traffic from it is dropped"
    else:
        risk = ""
    return Finding(
        "wrong_association",
        ASSOCIATION,
        f"{who} {att_id} is {now}, expected {want}{risk}",
        table_id=got,
        attachment_id=att_id,
        orgs=orgs,
    )


# --- intended paths ----------------------------------------------------------------------------


def check_forward_paths(topology: Topology, intent: Intent) -> list[Finding]:
    """Core table: each Active CIDR must resolve to its own breakout's attachment."""
    table = _table(topology, intent.core_table_id)
    out: list[Finding] = []
    for b in intent.active:
        if b.attachment_id is None:
            continue  # reported by check_associations as missing_attachment
        for c in b.cidrs:
            net = as_network(c)
            route = table.covering(net)
            finding = judge_hop(
                topology,
                route,
                net,
                want=b.attachment_id,
                want_org=b.org_id,
                table_id=table.id,
                what=f"devices of org {b.org_id} to {net} (breakout {b.id})",
            )
            if finding:
                out.append(finding)
    return out


def check_return_paths(topology: Topology, intent: Intent) -> list[Finding]:
    """Customers table: each org's device ranges must resolve to the core attachment."""
    table = _table(topology, intent.customers_table_id)
    orgs_by_range: dict[IPv4Network, list[int]] = {}
    for org in sorted({b.org_id for b in intent.active}):
        for net in intent.ranges_of(org):
            orgs_by_range.setdefault(net, []).append(org)
    out: list[Finding] = []
    for net, orgs in orgs_by_range.items():
        shown = ", ".join(map(str, orgs[:5])) + (
            f" and {len(orgs) - 5} more" if len(orgs) > 5 else ""
        )
        route = table.covering(net)
        finding = judge_hop(
            topology,
            route,
            net,
            want=intent.core_attachment_id,
            want_org=None,
            table_id=table.id,
            what=f"customers of org(s) {shown} back to devices {net}",
            orgs=tuple(orgs),
        )
        if finding:
            out.append(finding)
    return out


def judge_hop(
    topology: Topology,
    route: Route | None,
    net: IPv4Network,
    *,
    want: str | None,
    want_org: int | None,
    table_id: str,
    what: str,
    orgs: tuple[int, ...] = (),
) -> Finding | None:
    orgs = orgs or ((want_org,) if want_org is not None else ())
    if route is None:
        return Finding(
            "missing_route",
            ROUTING,
            f"no route in table {table_id} for {what}",
            table_id=table_id,
            cidr=str(net),
            attachment_id=want,
            orgs=orgs,
        )
    if route.is_blackhole:
        return Finding(
            "blackhole",
            ROUTING,
            f"{what} is dropped by blackhole {route.describe()}",
            table_id=table_id,
            cidr=str(net),
            attachment_id=want,
            orgs=orgs,
        )
    if route.attachment_ids == (want,):
        return None
    others = _orgs_of(topology, route) - {want_org}
    code = "cross_org_route" if others and want_org is not None else "wrong_target"
    return Finding(
        code,
        ROUTING,
        f"{what} goes to {_target_label(topology, route)} instead of {want} ({route.describe()})",
        table_id=table_id,
        cidr=str(net),
        attachment_id=want,
        orgs=tuple(sorted({*orgs, *others})),
    )


# --- route audits -----------------------------------------------------------------------------


def audit_core_table(
    topology: Topology, intent: Intent, cidr_index: tuple[RangeIndex, dict[str, _Owned]]
) -> list[Finding]:
    """Every core-table route that is not exactly an Active CIDR is overlapping or stale."""
    index, owned = cidr_index
    exact = {as_network(c) for b in intent.active for c in b.cidrs}
    out: list[Finding] = []
    for route in _table(topology, intent.core_table_id).winners():
        if route.network in exact:
            continue
        if route.attachment_ids == (intent.remote_core_routes.get(route.network),):
            continue
        hits = [owned[h.name] for h in index.overlapping(route.network)]
        if hits:
            out.append(_overlap_finding(topology, route, hits))
        elif not route.is_blackhole:
            out.append(
                Finding(
                    "stale_route",
                    ROUTING,
                    f"{route.describe()} to {_target_label(topology, route)} matches no Active "
                    "breakout; delete it",
                    table_id=route.table_id,
                    cidr=str(route.network),
                    attachment_id=",".join(route.attachment_ids),
                    orgs=tuple(sorted(_orgs_of(topology, route))),
                )
            )
    return out


def _overlap_finding(topology: Topology, route: Route, hits: list[_Owned]) -> Finding:
    names = "; ".join(h.what for h in hits[:3]) + (
        f" and {len(hits) - 3} more" if len(hits) > 3 else ""
    )
    orgs = {h.org_id for h in hits if h.org_id is not None} | _orgs_of(topology, route)
    if route.is_blackhole:
        code, effect = "blackhole", "drops traffic to"
    else:
        code, effect = "overlapping_route", f"sends to {_target_label(topology, route)} part of"
    return Finding(
        code,
        ROUTING,
        f"{route.describe()} overlaps and {effect} {names}",
        table_id=route.table_id,
        cidr=str(route.network),
        attachment_id=",".join(route.attachment_ids),
        orgs=tuple(sorted(orgs)),
    )


def audit_customers_table(topology: Topology, intent: Intent) -> list[Finding]:
    """The customers table may only route device space to the core attachment."""
    table = _table(topology, intent.customers_table_id)
    device = RangeIndex(NamedRange(str(n), n) for n in intent.device_space)
    out: list[Finding] = []
    leaked: set[str] = set()
    for route in table.winners():
        if route.is_blackhole:
            continue  # a blackhole opens no path; one inside device space fails check_return
        if route.attachment_ids == (intent.peer_pool_routes.get(route.network),):
            continue  # the peer region's pool over the peering (judged in crossregion)
        to_core = route.attachment_ids == (intent.core_attachment_id,)
        inside_devices = any(
            route.network.subnet_of(h.network) for h in device.overlapping(route.network)
        )
        if to_core and inside_devices:
            continue
        out.append(_customers_route_finding(topology, route, to_core))
        leaked.update(route.attachment_ids)
    for table_id, att_id in sorted(topology.propagations):
        if table_id == table.id and att_id != intent.core_attachment_id and att_id not in leaked:
            att = topology.attachments.get(att_id)
            out.append(
                Finding(
                    "leaked_propagation",
                    ROUTING,
                    f"{att.label() if att else att_id} propagates into the customers table "
                    f"{table.id}; its CIDRs would be reachable from every customer",
                    table_id=table.id,
                    attachment_id=att_id,
                    orgs=(att.org_id,) if att and att.org_id is not None else (),
                )
            )
    return out


def _customers_route_finding(topology: Topology, route: Route, to_core: bool) -> Finding:
    orgs = tuple(sorted(_orgs_of(topology, route)))
    where = f"every customer associated with table {route.table_id}"
    if to_core:
        code = "unexpected_route"
        text = f"{route.describe()} lets {where} reach {route.network} in the core beyond devices"
    elif route.type is RouteType.PROPAGATED:
        code = "leaked_propagation"
        text = (
            f"{route.describe()} leaks {_target_label(topology, route)}'s CIDR "
            f"{route.network} to {where}"
        )
    else:
        code = "cross_org_route"
        text = f"{route.describe()} lets {where} reach {_target_label(topology, route)}"
    return Finding(
        code,
        ROUTING,
        text,
        table_id=route.table_id,
        cidr=str(route.network),
        attachment_id=",".join(route.attachment_ids),
        orgs=orgs,
    )


# --- policy -----------------------------------------------------------------------------------


def check_policy(
    actual: CorePolicy,
    expected: CorePolicy,
    intent: Intent,
    cidr_index: tuple[RangeIndex, dict[str, _Owned]],
) -> list[Finding]:
    """Compare the policy in force with the one the fleet calls for, entry by entry."""
    return [
        *_policy_devices(actual, intent.device_map()),
        *_policy_cidrs(actual, expected, cidr_index),
        *_policy_space(actual, intent),
        *_policy_regions(actual, expected),
    ]


def _policy_regions(actual: CorePolicy, expected: CorePolicy) -> list[Finding]:
    """With several regions a breakout serves the devices of some pools only: the policy in
    force must restrict its CIDRs to exactly those pools (``pool_cidrs``)."""
    out = [
        Finding("policy_allows_other_region", POLICY,
                f"core policy lets the devices of every region reach {net}, which is served to "
                "the devices of some regions only (not in its regional_space set)",
                cidr=str(net))
        for net in expected.regional_space if not actual.is_regional(net)
    ]  # fmt: skip
    for pool, nets in actual.pool_cidrs.items():
        out += [
            Finding("policy_allows_other_region", POLICY,
                    f"core policy lets devices in pool {pool} reach {net}, which no breakout "
                    "serves to that region", cidr=str(net))
            for net in nets if expected.is_regional(net) and not expected.pool_covers(pool, net)
        ]  # fmt: skip
    for pool, nets in expected.pool_cidrs.items():
        out += [
            Finding("missing_policy", POLICY,
                    f"core policy does not let devices in pool {pool} reach {net}", cidr=str(net))
            for net in nets if not actual.pool_covers(pool, net)
        ]  # fmt: skip
    return out


def _policy_space(actual: CorePolicy, intent: Intent) -> list[Finding]:
    """Traffic to a CIDR outside ``customer_space`` is not filtered at all by the core."""
    out: list[Finding] = []
    for b in intent.active:
        for c in b.cidrs:
            net = as_network(c)
            if not actual.in_customer_space(net):
                out.append(
                    Finding(
                        "policy_allows_cross_org",
                        POLICY,
                        f"core policy does not filter traffic to or from {net} of org "
                        f"{b.org_id} (not in its customer_space set): devices of every "
                        "organisation can reach it",
                        cidr=str(net),
                        orgs=(b.org_id,),
                    )
                )
    return out


def _policy_devices(actual: CorePolicy, devices: DeviceMap) -> list[Finding]:
    """The device entries of the policy in force against the fleet's. Every region's
    verifier compares the same gateway map (shared by :meth:`CorePolicy.without`) with the
    same :class:`DeviceMap`: the walk over every device runs once per map, not per region."""
    judged = devices.judged.get(id(actual.device_org))
    if judged is None or judged[0] is not actual.device_org:
        judged = (actual.device_org, _judge_devices(actual.device_org, devices))
        devices.judged[id(actual.device_org)] = judged
    return list(judged[1])


def _judge_devices(device_org: Mapping[int, int], devices: DeviceMap) -> list[Finding]:
    owner, expected = devices.owner, devices.device_org
    out: list[Finding] = []
    for addr, org in device_org.items():
        if expected.get(addr) == org:
            continue
        ip, true_org = ip_str(addr), owner.get(addr)
        if true_org is not None and true_org != org:
            out.append(
                Finding(
                    "policy_allows_cross_org",
                    POLICY,
                    f"core policy gives device {ip} of org {true_org} the access of org {org}: "
                    f"it can reach org {org}'s CIDRs and be reached from them",
                    cidr=f"{ip}/32",
                    orgs=tuple(sorted((org, true_org))),
                )
            )
        else:
            why = "unknown to the fleet" if true_org is None else "not eligible"
            out.append(
                Finding(
                    "policy_allows_ineligible",
                    POLICY,
                    f"core policy lets device {ip} ({why}) reach org {org}'s CIDRs",
                    cidr=f"{ip}/32",
                    orgs=(org,),
                )
            )
    for addr, org in expected.items():
        if addr not in device_org:
            out.append(
                Finding(
                    "missing_policy",
                    POLICY,
                    f"core policy lacks device {ip_str(addr)} of org {org}: it cannot reach "
                    "its organisation's CIDRs",
                    cidr=f"{ip_str(addr)}/32",
                    orgs=(org,),
                )
            )
    return out


def _policy_cidrs(
    actual: CorePolicy, expected: CorePolicy, cidr_index: tuple[RangeIndex, dict[str, _Owned]]
) -> list[Finding]:
    """(org, CIDR) entries the policy has but should not, and those it lacks."""
    out = [
        _extra_cidr(org, net, cidr_index)
        for org, nets in actual.org_cidrs.items()
        for net in nets
        if not expected.org_covers(org, net)
    ]
    for org, nets in expected.org_cidrs.items():
        for net in nets:
            if not actual.org_covers(org, net):
                out.append(
                    Finding(
                        "missing_policy",
                        POLICY,
                        f"core policy does not let devices of org {org} reach {net}",
                        cidr=str(net),
                        orgs=(org,),
                    )
                )
    return out


def _extra_cidr(
    org: int, net: IPv4Network, cidr_index: tuple[RangeIndex, dict[str, _Owned]]
) -> Finding:
    index, owned = cidr_index
    hits = (owned[h.name].org_id for h in index.overlapping(net))
    others = sorted({o for o in hits if o is not None and o != org})
    if others:
        return Finding(
            "policy_allows_cross_org",
            POLICY,
            f"core policy lets devices of org {org} reach {net}, which belongs to "
            f"org(s) {', '.join(map(str, others))}",
            cidr=str(net),
            orgs=tuple(sorted({org, *others})),
        )
    return Finding(
        "policy_stale_cidr",
        POLICY,
        f"core policy lets devices of org {org} reach {net}, which is not an "
        "Active breakout CIDR of that organisation",
        cidr=str(net),
        orgs=(org,),
    )
