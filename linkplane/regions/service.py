"""Regional bootstrap and the stored regions.

:func:`bootstrap` builds or finds the provider side of a region (see :mod:`.build`) and
stores it in the ``region`` table. It is idempotent: a second run finds everything and
reports no changes. A failed run undoes what it created before the error leaves.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.cloud.port import CloudPort
from linkplane.db import transaction
from linkplane.errors import InvalidInput, LinkplaneError, NotFound
from linkplane.installation.service import installation_id
from linkplane.logs import get_logger
from linkplane.network.pools import pool_overlap
from linkplane.regions import build
from linkplane.regions.models import Region
from linkplane.regions.schemas import BootstrapResult, RegionRead
from linkplane.settings import KNOWN_REGIONS, Settings

log = get_logger(__name__)


def check_region_name(name: str, field: str = "region") -> None:
    if name not in KNOWN_REGIONS:
        raise InvalidInput(
            f"unknown region {name!r}; use one of: {', '.join(KNOWN_REGIONS)}", field=field
        )


def _check_cidrs(settings: Settings, region: str, aggregate: str | None) -> None:
    nets = {}
    for field, value in (
        ("core_vpc_cidr", settings.core_vpc_cidr),
        ("device_cidr", settings.device_pool(region)),
        ("customer_aggregate", aggregate),
    ):
        if value is None:
            continue
        try:
            nets[field] = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            message = f"{field} {value!r} is not a valid CIDR: {exc}"
            raise InvalidInput(message, field=field) from exc
    if "customer_aggregate" in nets:
        for other in ("core_vpc_cidr", "device_cidr"):
            if nets["customer_aggregate"].overlaps(nets[other]):
                raise InvalidInput(
                    f"customer aggregate {aggregate} overlaps the {other} {nets[other]}",
                    field="customer_aggregate",
                )


def _check_pool_free(factory: sessionmaker[Session], settings: Settings, region: str) -> None:
    """Refuse a pool overlapping another bootstrapped region's: routing could not tell
    which region such a device breaks out in."""
    pool = settings.device_pool(region)
    with factory() as session:
        others = {r.name: r.device_cidr for r in session.scalars(select(Region))}
    others.pop(region, None)
    hit = pool_overlap(pool, others)
    if hit is not None:
        raise InvalidInput(
            f"the device pool of {region} ({pool}) overlaps the pool of bootstrapped region "
            f"{hit} ({others[hit]}); give each region its own part of the device space in "
            "LINKPLANE_REGION_DEVICE_POOLS (docs/cloud-connect.md, Regions)",
            field="region",
        )


def _stored(factory: sessionmaker[Session], name: str) -> Region | None:
    with factory() as session:
        return session.scalars(select(Region).where(Region.name == name)).one_or_none()


def installation_of(factory: sessionmaker[Session], settings: Settings) -> str:
    with factory() as session:
        return installation_id(session, settings)


def bootstrap(
    *,
    factory: sessionmaker[Session],
    cloud: CloudPort,
    settings: Settings,
    region: str,
    tgw_id: str | None = None,
    core_vpc_id: str | None = None,
    customer_aggregate: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> BootstrapResult:
    """Create or adopt the provider side of ``region`` and store it.

    ``customer_aggregate`` (optional) routes one aggregate of customer CIDRs from the core
    VPC's main route table to the TGW; without it bootstrap adds no core VPC route and the
    breakout workflow adds one per customer CIDR.
    """
    check_region_name(region)
    _check_cidrs(settings, region, customer_aggregate)
    _check_pool_free(factory, settings, region)
    cloud.check_reachable()
    stored = _stored(factory, region)
    if stored is not None and stored.tgw_adopted and not tgw_id:
        tgw_id = stored.tgw_id
    if stored is not None and stored.core_vpc_adopted and not core_vpc_id:
        core_vpc_id = stored.core_vpc_id
    run = build.Run(cloud=cloud, region=region, installation=installation_of(factory, settings))
    if sleep is not None:
        run.sleep = sleep
    build.check_adoptions(run, tgw_id=tgw_id, core_vpc_id=core_vpc_id)
    try:
        row = _build(run, settings, stored, tgw_id, core_vpc_id, customer_aggregate)
        read = _save(factory, row, run)
    except LinkplaneError:
        failed = run.compensate()
        if failed:
            log.error("bootstrap_left_behind", region=region, resources=failed)
        raise
    return BootstrapResult(region=read, changes=run.changes)


def _build(
    run: build.Run,
    settings: Settings,
    stored: Region | None,
    tgw_id: str | None,
    core_vpc_id: str | None,
    aggregate: str | None,
) -> Region:
    tgw = build.ensure_tgw(run, adopt_id=tgw_id, stored_id=stored.tgw_id if stored else None)
    core = build.ensure_route_table(run, tgw=tgw, role="core")
    customers = build.ensure_route_table(run, tgw=tgw, role="customers")
    vpc, vpc_adopted = build.ensure_core_vpc(
        run,
        adopt_id=core_vpc_id,
        stored_id=stored.core_vpc_id if stored else None,
        cidr=settings.core_vpc_cidr,
    )
    subnets = build.ensure_subnets(run, vpc=vpc, adopted=vpc_adopted)
    att = build.ensure_core_attachment(run, tgw=tgw, vpc=vpc, subnets=subnets)
    build.ensure_association(run, table=core, attachment=att)
    pool = settings.device_pool(run.region)
    build.ensure_device_route(run, table=customers, attachment=att, device_cidr=pool)
    if stored is not None and stored.device_cidr != pool:
        build.remove_device_route(run, table=customers, device_cidr=stored.device_cidr)
    if aggregate:
        build.ensure_aggregate_route(run, vpc=vpc, tgw=tgw, cidr=aggregate)
    return Region(
        name=run.region,
        account_id=run.cloud.account_id,
        tgw_id=tgw.id,
        tgw_arn=tgw.arn,
        tgw_adopted=bool(tgw_id),
        core_route_table_id=core.id,
        customers_route_table_id=customers.id,
        core_vpc_id=vpc.id,
        core_vpc_cidr=vpc.cidr,
        core_vpc_adopted=vpc_adopted,
        core_attachment_id=att.id,
        subnet_ids=[s.id for s in subnets],
        device_cidr=pool,
        customer_aggregate_cidr=aggregate or (stored.customer_aggregate_cidr if stored else None),
    )


_COMPARED = (
    "account_id", "tgw_id", "tgw_arn", "tgw_adopted", "core_route_table_id",
    "customers_route_table_id", "core_vpc_id", "core_vpc_cidr", "core_vpc_adopted",
    "core_attachment_id", "subnet_ids", "device_cidr", "customer_aggregate_cidr",
)


def _save(factory: sessionmaker[Session], built: Region, run: build.Run) -> RegionRead:
    """Insert or update the row; a stored row that differs counts as a change."""
    with transaction(factory) as session:
        row = session.scalars(select(Region).where(Region.name == built.name)).one_or_none()
        if row is None:
            session.add(built)
            run.changes.append(f"recorded region {built.name}")
            row = built
        else:
            diff = [f for f in _COMPARED if getattr(row, f) != getattr(built, f)]
            for name in diff:
                setattr(row, name, getattr(built, name))
            if diff:
                run.changes.append(f"updated stored {', '.join(diff)}")
        session.flush()
        return RegionRead.model_validate(row)


def list_regions(*, session: Session) -> list[RegionRead]:
    rows = session.scalars(select(Region).order_by(Region.name)).all()
    return [RegionRead.model_validate(r) for r in rows]


def get_region(*, session: Session, name: str) -> RegionRead:
    row = session.scalars(select(Region).where(Region.name == name)).one_or_none()
    if row is None:
        raise NotFound(
            f"region {name} is not bootstrapped; run: linkplane region bootstrap --region {name}",
            field="region",
        )
    return RegionRead.model_validate(row)
