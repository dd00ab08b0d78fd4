"""Isolation services: verify, audit, repair, and the core policy (compute, apply, refresh).

Callers pass a session factory and ``cloud_for(region) -> CloudPort``; the CLI, the breakout
workflows' policy step and the reconciler are thin over these. Errors of the cloud port are
:class:`~linkplane.cloud.errors.CloudError`; repair catches them per fix (the other fixes
still run) and reports them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import records
from linkplane.attachments.workflows import recovery
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort
from linkplane.db import transaction
from linkplane.durable.client import WorkflowClient
from linkplane.errors import NotFound
from linkplane.events.models import Event
from linkplane.events.service import record
from linkplane.installation.service import installation_id
from linkplane.isolation import drift, gateway, stranded
from linkplane.isolation.drift import Drift, Fix, FixOp
from linkplane.isolation.models import CorePolicyState
from linkplane.isolation.state import (
    Desired,
    RegionSpec,
    load_desired,
    load_ownership,
    load_vpn_records,
    org_of_attachment,
    read_cloud,
)
from linkplane.logs import get_logger
from linkplane.network import crossregion
from linkplane.network.cidrs import as_network
from linkplane.network.policy import CorePolicy, DeviceMap
from linkplane.network.routing import Topology
from linkplane.network.verify import Intent, Report, verify
from linkplane.ops import metrics
from linkplane.settings import Settings
from linkplane.tenancy.models import Organisation

log = get_logger(__name__)

CloudFor = Callable[[str], CloudPort]
Factory = sessionmaker[Session]
GATEWAY = "core"


def _desired(factory: Factory) -> Desired:
    with factory() as session:
        return load_desired(session)


def _regions(desired: Desired, region: str | None) -> list[RegionSpec]:
    if region is None:
        return desired.regions
    spec = desired.region(region)
    if spec is None:
        raise NotFound(f"region {region} is not bootstrapped", field="region")
    return [spec]


# --- the core policy ------------------------------------------------------------------------
def compute_policy(*, factory: Factory) -> CorePolicy:
    """The policy the database calls for now (all regions: there is one core gateway)."""
    desired = _desired(factory)
    return CorePolicy.compute(desired.endpoints, [b.as_network() for b in desired.breakouts])


@dataclass(frozen=True)
class PolicyResult:
    changed: bool
    digest: str
    path: str
    loaded_into: str
    devices: int
    cidrs: int


_applies: dict[tuple[str, int], gateway.Coalescer[PolicyResult]] = {}
_applies_lock = threading.Lock()


def _apply_group(settings: Settings, factory: Factory) -> gateway.Coalescer[PolicyResult]:
    """The coalescer of one gateway file and database (a process may run several stacks)."""
    key = (str(gateway.policy_path(settings)), id(factory))
    with _applies_lock:
        return _applies.setdefault(key, gateway.Coalescer())


def apply_policy(*, settings: Settings, factory: Factory, force: bool = False) -> PolicyResult:
    """Regenerate the policy; when its digest differs from the stored one (or ``force``),
    write it atomically and load it into the gateway namespace, then store the digest.

    Callers that ask while another apply waits share the next one to start (``Coalescer``):
    it reads what they committed before asking. ``force`` always runs its own.
    Load failures raise :class:`~linkplane.isolation.gateway.PolicyApplyError` and leave the
    stored digest alone, so the next call tries again; the old ruleset stays in force.
    """
    group = _apply_group(settings, factory)
    ticket = group.ask()
    with gateway.apply_lock(settings):
        shared = None if force else group.done_for(ticket)
        if shared is not None:
            return shared
        return group.run(lambda: _apply_locked(settings=settings, factory=factory, force=force))


def _apply_locked(*, settings: Settings, factory: Factory, force: bool) -> PolicyResult:
    policy = compute_policy(factory=factory)
    text = policy.render()
    digest = policy.digest()
    path = gateway.policy_path(settings)
    netns = gateway.gateway_netns(settings)
    with factory() as session:
        stored = session.get(CorePolicyState, GATEWAY)
        same = stored is not None and stored.digest == digest and stored.loaded_into == netns
    devices, cidrs = len(policy.device_org), sum(len(n) for n in policy.org_cidrs.values())
    if same and path.exists() and not force:
        return PolicyResult(False, digest, str(path), netns, devices, cidrs)
    gateway.write_atomically(path, text)
    if netns:
        gateway.load(netns, path)
    with transaction(factory) as session:
        row = session.get(CorePolicyState, GATEWAY) or CorePolicyState(gateway=GATEWAY)
        row.digest, row.path, row.devices, row.cidrs = digest, str(path), devices, cidrs
        row.loaded_into, row.loaded = netns, bool(netns)
        session.add(row)
    log.info("core_policy_applied", digest=digest[:12], devices=devices, netns=netns)
    return PolicyResult(True, digest, str(path), netns, devices, cidrs)


# --- verify ---------------------------------------------------------------------------------
@dataclass
class VerifyResult:
    reports: dict[str, Report]
    policy_source: str  # the applied file, or "computed" before the first apply

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "policy": self.policy_source,
            "regions": {name: r.to_dict() for name, r in self.reports.items()},
        }


def verify_isolation(
    *, settings: Settings, factory: Factory, cloud_for: CloudFor, region: str | None = None
) -> VerifyResult:
    """Verify each region's live TGW routing, the paths across region peerings, and the
    applied core policy."""
    desired = _desired(factory)
    applied = gateway.read_applied(settings)
    wanted = {s.name for s in _regions(desired, region)}
    owners = org_of_attachment(desired.breakouts)
    # Every region is read: a path across a peering is judged in both of its regions.
    clouds = {spec.name: read_cloud(cloud_for(spec.name), spec, shares=False)
              for spec in desired.regions}  # fmt: skip
    topologies = {name: cloud.topology(owners) for name, cloud in clouds.items()}
    hops = _peering_hops(desired)
    devices = DeviceMap.of(desired.endpoints)  # once: the same in every region
    reports: dict[str, Report] = {}
    for spec in desired.regions:
        if spec.name not in wanted:
            continue
        here = [h for h in hops if h.device_region == spec.name]
        intent = _intent(desired, spec, here, devices)
        served = {str(h.cidr) for h in here}
        others = {c for b in desired.breakouts if b.region != spec.name for c in b.cidrs}
        policy = _without(applied, others - served) if applied is not None else None
        reports[spec.name] = verify(topologies[spec.name], intent, policy=policy)
    tables = {spec.name: _tables(spec, topologies[spec.name]) for spec in desired.regions}
    for name, findings in crossregion.check_hops(hops, tables).items():
        if name in reports:
            reports[name].findings.extend(findings)
    source = str(gateway.policy_path(settings)) if applied is not None else "computed"
    if region is None:  # a whole run: what the metric reports as "the last verify"
        metrics.findings("verify", (f.code for r in reports.values() for f in r.findings))
    return VerifyResult(reports, source)


def _intent(
    desired: Desired, spec: RegionSpec, hops: list[crossregion.PeeringHop], devices: DeviceMap
) -> Intent:
    return Intent(
        core_attachment_id=spec.core_attachment_id,
        core_table_id=spec.core_table_id,
        customers_table_id=spec.customers_table_id,
        breakouts=[b.as_network() for b in desired.in_region(spec.name)],
        device_space=[as_network(spec.device_cidr)],
        device_ranges=_ranges_in(desired, spec),
        core_vpc=as_network(spec.core_vpc_cidr),
        fleet=desired.endpoints,
        devices=devices,
        remote_core_routes={h.cidr: h.peering_id for h in hops},
        remote_breakouts=[b.as_network() for b in desired.breakouts
                          if b.id in {h.breakout_id for h in hops}],
        peer_pool_routes={as_network(p.peer_device_cidr): p.attachment_id
                          for p in spec.peerings if p.peer_device_cidr},
    )


def _ranges_in(desired: Desired, spec: RegionSpec) -> dict[int, list[IPv4Network]]:
    """The organisations' device ranges in ``spec``'s pool, once there are several regions:
    a range in another region's pool comes back over a peering (judged hop by hop in
    :mod:`linkplane.network.crossregion`), not through this region's core attachment."""
    if len(desired.regions) < 2:
        return desired.device_ranges
    pool = as_network(spec.device_cidr)
    inside = {org: [n for n in nets if n.subnet_of(pool)]
              for org, nets in desired.device_ranges.items()}  # fmt: skip
    return {org: nets for org, nets in inside.items() if nets}


def _tables(spec: RegionSpec, topology: Topology) -> crossregion.RegionTables:
    return crossregion.RegionTables(
        topology=topology, core_table_id=spec.core_table_id,
        customers_table_id=spec.customers_table_id, core_attachment_id=spec.core_attachment_id,
        device_pool=as_network(spec.device_cidr), peering_table_id=spec.peering_table_id,
    )  # fmt: skip


def _peering_hops(desired: Desired) -> list[crossregion.PeeringHop]:
    """Each CIDR of each Active breakout served across a peering, as its routes record."""
    specs = {s.name: s for s in desired.regions}
    hops = []
    for b in desired.breakouts:
        home = specs.get(b.region)
        if not b.active or b.attachment_id is None or home is None:
            continue
        peering_to = {p.peer_region: p.attachment_id for p in home.peerings}
        for r in b.crossregion:
            far = specs.get(r.region)
            if r.kind != "tgw" or far is None or r.route_table_id != far.core_table_id:
                continue
            pool = as_network(far.device_cidr)
            ranges = tuple(n for n in desired.device_ranges.get(b.org_id, ())
                           if n.subnet_of(pool)) or (pool,)  # fmt: skip
            hops.append(crossregion.PeeringHop(
                org_id=b.org_id, breakout_id=b.id, cidr=as_network(r.cidr),
                attachment_id=b.routed_attachment_id or b.attachment_id,
                peering_id=peering_to.get(r.region, r.target),
                attachment_region=b.region, device_region=r.region, device_ranges=ranges,
            ))  # fmt: skip
    return hops


def _without(policy: CorePolicy, cidrs: set[str]) -> CorePolicy:
    """``policy`` minus other regions' CIDRs (see :meth:`CorePolicy.without`)."""
    return policy.without(as_network(c) for c in cidrs)


# --- audit and repair -----------------------------------------------------------------------
@dataclass
class AuditResult:
    findings: list[Drift]
    regions: list[str]
    repaired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "regions": self.regions,
            "findings": [f.to_dict() for f in self.findings],
            "repaired": self.repaired, "failed": self.failed,
        }  # fmt: skip


def audit(
    *, settings: Settings, factory: Factory, cloud_for: CloudFor, region: str | None = None,
    workflows: WorkflowClient | None = None,
) -> AuditResult:  # fmt: skip
    """Compare each region's cloud state with what the breakouts own; changes nothing.

    Another installation's shares are never proposed for deletion (see :class:`Ownership`).
    With ``workflows`` (the workflow engine's states), breakouts no workflow works on
    although their status says one should are reported too (``stranded``).
    """
    desired = _desired(factory)
    with factory() as session:
        ownership = load_ownership(session, installation_id(session, settings))
    specs = _regions(desired, region)
    findings: list[Drift] = []
    for spec in specs:
        port = cloud_for(spec.name)
        if not _tgw_exists(port, spec.tgw_id):
            findings += drift.missing_tgw(spec, desired.in_region(spec.name))
            continue
        cloud = read_cloud(port, spec, shares=True, installation=ownership.installation)
        with factory() as session:  # after the cloud: see load_vpn_records
            ownership = replace(ownership, vpn=load_vpn_records(session))
        findings += drift.audit(spec, cloud, desired.breakouts, ownership)
    if workflows is not None:
        names = {s.name for s in specs}
        findings += [f for f in stranded_findings(factory, workflows) if f.region in names]
    if region is None:
        metrics.findings("audit", (f.code for f in findings))
    return AuditResult(findings, [s.name for s in specs])


def _tgw_exists(cloud: CloudPort, tgw_id: str) -> bool:
    return cloud.describe_transit_gateway(tgw_id) is not None  # None also when deleting


def stranded_findings(factory: Factory, workflows: WorkflowClient) -> list[Drift]:
    """States read between two reads of the rows (see attachments.workflows.recovery)."""
    with factory() as session:
        before = records.in_flight(session)
    try:
        states = workflows.states([w for row in before for w in recovery.workflow_ids(row)])
    except SQLAlchemyError as exc:  # e.g. DBOS's tables were never created
        return [Drift("workflow_states_unreadable", row.region, f"breakout {row.breakout_id}",
                      f"the workflow engine's states cannot be read ({type(exc).__name__}): "
                      "whether a workflow works on this breakout is not known; run "
                      "`linkplane migrate`, and check LINKPLANE_DATABASE_URL",
                      row.breakout_id, row.org_id) for row in before]  # fmt: skip
    with factory() as session:
        after = records.in_flight(session, [row.breakout_id for row in before])
    return stranded.findings(recovery.find_stranded(before, states, after))


def repair(*, factory: Factory, cloud_for: CloudFor, findings: Sequence[Drift]) -> AuditResult:
    """Apply every finding's fixes, in :class:`FixOp` order; each fix is idempotent (the
    port treats "already so" as success) and recorded as an event (source ``network``)."""
    result = AuditResult(list(findings), sorted({f.region for f in findings}))
    for finding in findings:
        if finding.code == "missing_peering" and finding.breakout_id is not None:
            _degraded(factory, finding)
    order = list(FixOp)
    planned = [(f, x) for f in findings for x in f.fixes]
    planned.sort(key=lambda p: order.index(p[1].op))
    done: set[tuple[str, Fix]] = set()
    for finding, fx in planned:
        if (finding.region, fx) in done:
            continue  # two findings may call for the same fix (e.g. one disassociation)
        done.add((finding.region, fx))
        try:
            _FIXES[fx.op](cloud_for(finding.region), fx.kwargs())
        except CloudError as exc:
            result.failed.append(f"{fx.describe()}: {exc}")
            _record(factory, finding, fx, error=str(exc))
            continue
        result.repaired.append(fx.describe())
        _record(factory, finding, fx)
    return result


def _remove_attachment(cloud: CloudPort, args: dict[str, str]) -> None:
    """The TGW owner rejects a pending attachment and deletes any other live one."""
    current = cloud.describe_attachment(args["attachment_id"])
    if current is None or current.state in drift.GONE:
        return
    if current.state == "pendingAcceptance":
        cloud.reject_vpc_attachment(current.id)
    else:
        cloud.delete_vpc_attachment(current.id)


def _delete_customer_gateway(cloud: CloudPort, args: dict[str, str]) -> None:
    """After the connections that used it are ``deleted`` (AWS refuses it while one is still
    ``deleting``, which takes minutes): until then this fix fails and the next repair runs it."""
    for vpn_id in filter(None, args.get("after_vpn_connections", "").split(",")):
        current = cloud.describe_vpn_connection(vpn_id)
        if current is not None and current.state != "deleted":
            raise CloudError(f"customer gateway {args['customer_gateway_id']} kept until its VPN "
                             f"connection {vpn_id} ({current.state}) is deleted; the next "
                             "audit --repair deletes it")  # fmt: skip
    cloud.delete_customer_gateway(args["customer_gateway_id"])


_FIXES: dict[FixOp, Callable[[CloudPort, dict[str, str]], None]] = {
    FixOp.DISABLE_PROPAGATION: lambda c, a: c.disable_route_table_propagation(**a),
    FixOp.DISASSOCIATE: lambda c, a: c.disassociate_route_table(**a),
    FixOp.ASSOCIATE: lambda c, a: c.associate_route_table(**a),
    FixOp.DELETE_ROUTE: lambda c, a: c.delete_static_route(**a),
    FixOp.PUT_ROUTE: lambda c, a: c.create_static_route(**a),
    FixOp.DISASSOCIATE_PRINCIPAL: lambda c, a: c.disassociate_share_principal(**a),
    FixOp.ASSOCIATE_PRINCIPAL: lambda c, a: c.associate_share_principal(**a),
    FixOp.REMOVE_ATTACHMENT: _remove_attachment,
    FixOp.DELETE_SHARE: lambda c, a: c.delete_resource_share(**a),
    FixOp.DELETE_VPN_CONNECTION: lambda c, a: c.delete_vpn_connection(a["vpn_connection_id"]),
    FixOp.DELETE_CUSTOMER_GATEWAY: _delete_customer_gateway,
}


def _degraded(factory: Factory, finding: Drift) -> None:
    """Tell the breakout's organisation that its breakout lost its path (it stays Active:
    the customer's side is intact and the path comes back with the peering). Recorded once
    per breakout and peering, not at every reconciliation pass."""
    text = (f"Breakout {finding.breakout_id} is degraded: the region peering "
            f"{finding.resource} it routes over is gone")  # fmt: skip
    with transaction(factory) as session:
        seen = session.scalar(select(Event.id).where(
            Event.entity_type == "breakout", Event.entity_id == finding.breakout_id,
            Event.event_type == "Breakout degraded", Event.description == text,
        ).limit(1))  # fmt: skip
        if seen is not None or finding.org_id is None:
            return
        record(
            session=session, org_id=finding.org_id, event_type="Breakout degraded",
            description=text, actor="isolation", entity_type="breakout",
            entity_id=finding.breakout_id, severity=2, source="network",
            detail={"finding": finding.to_dict()},
        )  # fmt: skip


def _record(factory: Factory, finding: Drift, fx: Fix, *, error: str | None = None) -> None:
    """An event in the breakout's organisation, else the provider's; without either (no
    organisation exists) the repair is only logged."""
    with transaction(factory) as session:
        org_id = finding.org_id or session.scalar(
            select(Organisation.id).order_by(Organisation.is_provider.desc(), Organisation.id)
        )
        text = f"{'Repair failed' if error else 'Repaired'} {finding.code}: {fx.describe()}"
        log.info("isolation_repair", finding=finding.code, fix=fx.describe(), error=error)
        if org_id is None:
            return
        record(
            session=session, org_id=org_id, event_type="Network repaired", description=text,
            actor="isolation", entity_type="breakout" if finding.breakout_id else None,
            entity_id=finding.breakout_id, severity=2 if error else 1, source="network",
            detail={"finding": finding.to_dict(), "fix": fx.describe(), "error": error},
        )  # fmt: skip
