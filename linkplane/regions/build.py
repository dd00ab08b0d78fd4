"""The provider side of one region, built (or found) in the cloud, step by step.

Each ``ensure_*`` step looks for what it needs first (stored id, then linkplane's tags) and
creates it only when missing. Whatever a run creates is recorded with its undo action in a
:class:`Run`; if a later step fails, :meth:`Run.compensate` undoes this run's creations in
reverse, so a failed bootstrap leaves the account as it found it. Adopted resources (ids the
operator passed) are never deleted.

Names, tags and the TGW's token carry the installation id and look-ups by tag filter on it,
so installations sharing a provider account each build their own TGW and core VPC; one
tagged by another installation is never adopted or kept.

Domain code: talks to :class:`~linkplane.cloud.port.CloudPort` only.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import (
    CloudPort,
    Subnet,
    TgwAttachment,
    TgwRouteTable,
    TransitGateway,
    Vpc,
)
from linkplane.errors import Conflict, InvalidInput
from linkplane.installation.tags import TAG as INSTALLATION
from linkplane.installation.tags import Owner, owner_of
from linkplane.logs import get_logger

log = get_logger(__name__)

ROLE = "linkplane:role"
REGION = "linkplane:region"
#: Attachment subnets carved from the top /24 of a created core VPC: one /28 per AZ, the
#: size AWS recommends for dedicated Transit Gateway attachment subnets.
ATTACHMENT_PREFIX = 28
MAX_AZS = 6
WAIT_TIMEOUT_SECONDS = 900.0


@dataclass
class Run:
    """One bootstrap run: what it changed, and the undo actions of what it created."""

    cloud: CloudPort
    region: str
    #: This installation's id (linkplane.installation).
    installation: str
    sleep: Callable[[float], None] = time.sleep
    changes: list[str] = field(default_factory=list)
    _undo: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def tags(self, role: str, name: str) -> dict[str, str]:
        name = f"linkplane-{self.installation}-{self.region}-{name}"
        return {**self.lookup(role), "Name": name}

    def lookup(self, role: str) -> dict[str, str]:
        """The tags that find this installation's ``role`` resource in this region."""
        return {ROLE: role, REGION: self.region, INSTALLATION: self.installation}

    def refuse_other(self, what: str, tags: dict[str, str], field: str | None = None) -> None:
        """An adopted or stored resource another installation created is not ours to use:
        its sweep would reject our customers' attachments, and ours its customers'."""
        if owner_of(tags, self.installation) is Owner.OTHER:
            raise Conflict(
                f"{what} belongs to linkplane installation {tags[INSTALLATION]}, not to this "
                f"one ({self.installation}); installations sharing a provider account need "
                "their own transit gateway and core VPC",
                field=field,
            )

    def created(self, what: str, undo: Callable[[], None]) -> None:
        self.changes.append(f"created {what}")
        self._undo.append((what, undo))

    def compensate(self) -> list[str]:
        """Undo this run's creations, newest first; return what could not be undone."""
        failed: list[str] = []
        for what, undo in reversed(self._undo):
            try:
                undo()
                log.info("bootstrap_compensated", region=self.region, resource=what)
            except CloudError as exc:
                log.error("bootstrap_compensation_failed", resource=what, error=exc.message)
                failed.append(f"{what}: {exc.message}")
        self._undo.clear()
        return failed

    def wait(self, what: str, probe: Callable[[], str | None], done: set[str | None]) -> None:
        """Poll ``probe`` (a state, None = gone) until it is in ``done``."""
        deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
        delay = 0.5
        while (state := probe()) not in done:
            if time.monotonic() > deadline:
                raise Conflict(f"{what} is still {state} after {WAIT_TIMEOUT_SECONDS:.0f}s")
            self.sleep(delay)
            delay = min(delay * 2, 10.0)


def check_adoptions(run: Run, *, tgw_id: str | None, core_vpc_id: str | None) -> None:
    """Refuse ids that do not exist before anything is created (nothing to undo then)."""
    if tgw_id:
        ensure_tgw(run, adopt_id=tgw_id, stored_id=None)
    if core_vpc_id:
        ensure_core_vpc(run, adopt_id=core_vpc_id, stored_id=None, cidr="")


# --- Transit Gateway ---------------------------------------------------------------------------
def _check_adoptable(tgw: TransitGateway) -> None:
    enabled = [
        name
        for name, on in (
            ("AutoAcceptSharedAttachments", tgw.auto_accept_shared_attachments),
            ("DefaultRouteTableAssociation", tgw.default_association),
            ("DefaultRouteTablePropagation", tgw.default_propagation),
        )
        if on
    ]
    if enabled:
        raise InvalidInput(
            f"transit gateway {tgw.id} has {', '.join(enabled)} enabled; linkplane needs "
            "them disabled (aws ec2 modify-transit-gateway) or omit --tgw-id to create one",
            field="tgw_id",
        )


def ensure_tgw(run: Run, *, adopt_id: str | None, stored_id: str | None) -> TransitGateway:
    cloud = run.cloud
    if adopt_id:
        found = cloud.describe_transit_gateway(adopt_id)
        if found is None:
            raise InvalidInput(
                f"transit gateway {adopt_id} does not exist in account {cloud.account_id} "
                f"region {run.region}; check the id or omit --tgw-id to create one",
                field="tgw_id",
            )
        run.refuse_other(f"transit gateway {adopt_id}", found.tags, field="tgw_id")
        _check_adoptable(found)
        return found
    if stored_id and (found := cloud.describe_transit_gateway(stored_id)) is not None:
        run.refuse_other(f"stored transit gateway {stored_id}", found.tags)
        return found
    if stored_id:
        run.changes.append(f"stored transit gateway {stored_id} no longer exists")
    # Only this installation's: an untagged (pre-0007) TGW without a stored row may be
    # another installation's, which before installation ids adopted each other's this way.
    existing = cloud.find_transit_gateways(tags=run.lookup("tgw"))
    if existing:
        return existing[0]
    tgw = cloud.create_transit_gateway(
        description=f"linkplane shared transit gateway ({run.region})",
        client_token=f"linkplane-{run.installation}-{run.region}-tgw",
        tags=run.tags("tgw", "tgw"),
    )
    run.created(f"transit gateway {tgw.id}", lambda: _delete_tgw(run, tgw.id))
    run.wait(f"transit gateway {tgw.id}", lambda: _tgw_state(cloud, tgw.id), {"available"})
    return tgw


def _tgw_state(cloud: CloudPort, tgw_id: str) -> str | None:
    found = cloud.describe_transit_gateway(tgw_id)
    return found.state if found else None


def _delete_tgw(run: Run, tgw_id: str) -> None:
    run.cloud.delete_transit_gateway(tgw_id)


# --- Route tables ------------------------------------------------------------------------------
def ensure_route_table(run: Run, *, tgw: TransitGateway, role: str) -> TgwRouteTable:
    """The ``core`` or ``customers`` table of ``tgw``, found by its tags or created.

    The TGW is this installation's already, so its tables without an installation tag are
    too (created before 0007); tagged ones are preferred.
    """
    cloud = run.cloud
    found = cloud.find_route_tables(tgw_id=tgw.id, tags={ROLE: f"{role}-routes"})
    owners = {t.id: owner_of(t.tags, run.installation) for t in found}
    existing = [t for t in found if owners[t.id] is not Owner.OTHER]
    if existing:
        return min(existing, key=lambda t: owners[t.id] is not Owner.MINE)
    table = cloud.create_route_table(tgw_id=tgw.id, tags=run.tags(f"{role}-routes", role))
    run.created(f"{role} route table {table.id}", lambda: cloud.delete_route_table(table.id))
    return table


# --- Core VPC and subnets ----------------------------------------------------------------------
def ensure_core_vpc(
    run: Run, *, adopt_id: str | None, stored_id: str | None, cidr: str
) -> tuple[Vpc, bool]:
    """The core VPC and whether it was adopted (passed by id) rather than linkplane's own."""
    cloud = run.cloud
    if adopt_id:
        found = cloud.describe_vpc(adopt_id)
        if found is None:
            raise InvalidInput(
                f"VPC {adopt_id} does not exist in account {cloud.account_id} region "
                f"{run.region}; check the id or omit --core-vpc-id to create one",
                field="core_vpc_id",
            )
        run.refuse_other(f"VPC {adopt_id}", found.tags, field="core_vpc_id")
        return found, True
    if stored_id and (found := cloud.describe_vpc(stored_id)) is not None:
        run.refuse_other(f"stored core VPC {stored_id}", found.tags)
        return found, False
    existing = cloud.find_vpcs(tags=run.lookup("core-vpc"))
    if existing:
        return existing[0], False
    vpc = cloud.create_vpc(cidr=cidr, tags=run.tags("core-vpc", "core"))
    run.created(f"core VPC {vpc.id}", lambda: cloud.delete_vpc(vpc.id))
    return vpc, False


def attachment_subnet_cidrs(vpc_cidr: str, count: int) -> list[str]:
    """``count`` /28s from the top /24 of ``vpc_cidr`` (InvalidInput if it is too small)."""
    net = ipaddress.IPv4Network(vpc_cidr, strict=False)
    if net.prefixlen > 24:
        raise InvalidInput(
            f"core VPC CIDR {vpc_cidr} is smaller than a /24; use a /24 or larger",
            field="core_vpc_cidr",
        )
    top = ipaddress.IPv4Network((int(net.broadcast_address) - 255, 24))
    return [str(s) for s in list(top.subnets(new_prefix=ATTACHMENT_PREFIX))[:count]]


def ensure_subnets(run: Run, *, vpc: Vpc, adopted: bool) -> list[Subnet]:
    """One subnet per AZ: an adopted VPC's existing ones, or /28s created in ours."""
    cloud = run.cloud
    if adopted:
        per_az: dict[str, Subnet] = {}
        for subnet in sorted(cloud.list_subnets(vpc.id), key=lambda s: s.id):
            per_az.setdefault(subnet.availability_zone, subnet)
        if not per_az:
            raise InvalidInput(
                f"VPC {vpc.id} has no subnets; create one per Availability Zone first",
                field="core_vpc_id",
            )
        return [per_az[az] for az in sorted(per_az)]
    zones = cloud.availability_zones()[:MAX_AZS]
    known = {s.cidr: s for s in cloud.list_subnets(vpc.id)}
    subnets = []
    for az, cidr in zip(zones, attachment_subnet_cidrs(vpc.cidr, len(zones)), strict=True):
        if cidr in known:
            subnets.append(known[cidr])
            continue
        subnet = cloud.create_subnet(vpc_id=vpc.id, cidr=cidr, availability_zone=az)
        run.created(f"subnet {subnet.id} ({az})", _undo_subnet(cloud, subnet.id))
        subnets.append(subnet)
    return subnets


def _undo_subnet(cloud: CloudPort, subnet_id: str) -> Callable[[], None]:
    return lambda: cloud.delete_subnet(subnet_id)


# --- Core attachment, association, routes -------------------------------------------------------
def ensure_core_attachment(
    run: Run, *, tgw: TransitGateway, vpc: Vpc, subnets: list[Subnet]
) -> TgwAttachment:
    cloud = run.cloud
    for att in cloud.list_attachments(tgw_id=tgw.id, resource_type="vpc"):
        if att.resource_id == vpc.id and att.state in {"pending", "available", "modifying"}:
            return att
        if att.resource_id == vpc.id and att.state == "pendingAcceptance":
            return cloud.accept_vpc_attachment(att.id)
    att = cloud.create_vpc_attachment(
        tgw_id=tgw.id,
        vpc_id=vpc.id,
        subnet_ids=[s.id for s in subnets],
        tags=run.tags("core-attachment", "core"),
    )
    run.created(f"core attachment {att.id}", lambda: _delete_attachment(run, att.id))
    if att.state == "pendingAcceptance":  # same-account attachments are normally auto-accepted
        cloud.accept_vpc_attachment(att.id)
    run.wait(f"attachment {att.id}", lambda: _attachment_state(cloud, att.id), {"available"})
    return att


def _attachment_state(cloud: CloudPort, attachment_id: str) -> str | None:
    found = cloud.describe_attachment(attachment_id)
    return found.state if found else None


def _delete_attachment(run: Run, attachment_id: str) -> None:
    """Delete and wait until gone: its subnets, VPC and TGW cannot go before it does."""
    run.cloud.delete_vpc_attachment(attachment_id)
    run.wait(
        f"attachment {attachment_id}",
        lambda: _attachment_state(run.cloud, attachment_id),
        {None, "deleted"},
    )


def ensure_association(run: Run, *, table: TgwRouteTable, attachment: TgwAttachment) -> None:
    cloud = run.cloud
    current = cloud.describe_attachment(attachment.id)
    if current and current.association_route_table_id == table.id:
        return
    if current and current.association_route_table_id:
        raise Conflict(
            f"core attachment {attachment.id} is associated with route table "
            f"{current.association_route_table_id}, not the core table {table.id}; "
            "disassociate it and run bootstrap again"
        )
    cloud.associate_route_table(route_table_id=table.id, attachment_id=attachment.id)
    run.created(
        f"association of {attachment.id} with {table.id}",
        lambda: cloud.disassociate_route_table(
            route_table_id=table.id, attachment_id=attachment.id
        ),
    )


def ensure_device_route(
    run: Run, *, table: TgwRouteTable, attachment: TgwAttachment, device_cidr: str
) -> None:
    """customers table: device address space -> core attachment (static)."""
    cloud = run.cloud
    for route in cloud.search_routes(table.id):
        if route.cidr == device_cidr and route.attachment_ids == (attachment.id,):
            return
    cloud.create_static_route(
        route_table_id=table.id, cidr=device_cidr, attachment_id=attachment.id
    )
    run.created(
        f"route {device_cidr} -> {attachment.id} in {table.id}",
        lambda: cloud.delete_static_route(route_table_id=table.id, cidr=device_cidr),
    )


def remove_device_route(run: Run, *, table: TgwRouteTable, device_cidr: str) -> None:
    """customers table: drop the route of a pool the region no longer has (the pool changed
    in settings), so customers stop reaching addresses that now break out elsewhere."""
    if any(r.cidr == device_cidr for r in run.cloud.search_routes(table.id)):
        run.cloud.delete_static_route(route_table_id=table.id, cidr=device_cidr)
        run.changes.append(f"removed route {device_cidr} from {table.id} (old device pool)")


def ensure_aggregate_route(run: Run, *, vpc: Vpc, tgw: TransitGateway, cidr: str) -> None:
    """Core VPC main table: an operator-chosen aggregate of customer CIDRs -> the TGW."""
    cloud = run.cloud
    table_id = cloud.main_route_table_id(vpc.id)
    if cloud.ensure_vpc_route_to_tgw(route_table_id=table_id, cidr=cidr, tgw_id=tgw.id):
        run.created(
            f"route {cidr} -> {tgw.id} in core VPC table {table_id}",
            lambda: cloud.delete_vpc_route(route_table_id=table_id, cidr=cidr),
        )
