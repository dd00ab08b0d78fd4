"""``linkplane region``: bootstrap regions, peer and unpeer them, list regions and peerings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from linkplane.attachments import crossregion
from linkplane.cloud.factory import make_cloud
from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.regions import peering, service
from linkplane.regions.schemas import BootstrapResult, PeeringRead, RegionRead

app = typer.Typer(no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default ~/.local/share/linkplane)."),
]


@app.command("bootstrap")
def bootstrap_cmd(
    region: Annotated[str, typer.Option("--region", help="AWS region, e.g. eu-central-1.")],
    tgw_id: Annotated[
        str | None, typer.Option("--tgw-id", help="Adopt this existing Transit Gateway.")
    ] = None,
    core_vpc_id: Annotated[
        str | None, typer.Option("--core-vpc-id", help="Adopt this existing core VPC.")
    ] = None,
    customer_aggregate: Annotated[
        str | None,
        typer.Option(
            "--customer-aggregate",
            help="Route this aggregate of customer CIDRs from the core VPC to the TGW.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create (or adopt) the region's TGW, route tables, core VPC and attachment; idempotent."""
    service.check_region_name(region)
    settings = load_settings(data_dir)
    ctx = open_context(settings)
    try:
        result = service.bootstrap(
            factory=ctx.sessionmaker,
            cloud=make_cloud(settings, region),
            settings=settings,
            region=region,
            tgw_id=tgw_id,
            core_vpc_id=core_vpc_id,
            customer_aggregate=customer_aggregate,
        )
    finally:
        ctx.close()
    _print_result(result)


def _print_result(result: BootstrapResult) -> None:
    name = result.region.name
    if not result.changes:
        typer.echo(f"region {name} is up to date (no changes)")
        return
    typer.echo(f"region {name} bootstrapped:")
    for change in result.changes:
        typer.echo(f"  {change}")
    _print_region(result.region)


def _print_region(region: RegionRead) -> None:
    tgw_note = " (adopted)" if region.tgw_adopted else ""
    typer.echo(f"  transit gateway:       {region.tgw_id}{tgw_note}")
    typer.echo(f"  core route table:      {region.core_route_table_id}")
    typer.echo(f"  customers route table: {region.customers_route_table_id}")
    adopted = " (adopted)" if region.core_vpc_adopted else ""
    typer.echo(f"  core VPC:              {region.core_vpc_id} {region.core_vpc_cidr}{adopted}")
    typer.echo(f"  core attachment:       {region.core_attachment_id}")
    typer.echo(f"  subnets:               {', '.join(region.subnet_ids)}")
    typer.echo(f"  device pool:           {region.device_cidr} (customers table -> core)")
    if region.peering_route_table_id:
        typer.echo(f"  peering route table:   {region.peering_route_table_id}")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Regions bootstrapped in this data directory's database."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            regions = service.list_regions(session=session)
            peerings = peering.list_peerings(session=session)
    finally:
        ctx.close()
    if as_json:
        typer.echo(json.dumps([_region_json(r, peerings) for r in regions], indent=2))
        return
    if not regions:
        typer.echo("no regions bootstrapped; run: linkplane region bootstrap --region REGION")
        return
    for region in regions:
        typer.echo(f"{region.name} (account {region.account_id})")
        _print_region(region)
    for p in peerings:
        typer.echo(_peering_line(p))


def _region_json(region: RegionRead, peerings: list[PeeringRead]) -> dict[str, object]:
    """The region with its peerings, each seen from this region (``peer_region`` = the
    other one)."""
    mine = [
        {"peer_region": p.peer_region if p.region == region.name else p.region,
         "attachment_id": p.attachment_id, "state": p.state,
         "requester": p.region == region.name}
        for p in peerings if region.name in (p.region, p.peer_region)
    ]  # fmt: skip
    return {**region.model_dump(mode="json"), "peerings": mine}


def _peering_line(p: PeeringRead) -> str:
    return f"peering {p.region} <-> {p.peer_region}: {p.attachment_id} {p.state}"


Peer = Annotated[str, typer.Option("--peer-region", help="The other region, e.g. us-east-1.")]
Here = Annotated[str, typer.Option("--region", help="AWS region, e.g. eu-central-1.")]


@app.command("peer")
def peer_cmd(region: Here, peer_region: Peer, data_dir: DataDir = None) -> None:
    """Peer two bootstrapped regions' TGWs (request, accept, wait) with their routes."""
    service.check_region_name(region)
    service.check_region_name(peer_region, field="peer_region")
    settings = load_settings(data_dir)
    ctx = open_context(settings)
    try:
        result = peering.peer(
            factory=ctx.sessionmaker, cloud=make_cloud(settings, region), settings=settings,
            region=region, peer_region=peer_region,
        )  # fmt: skip
    finally:
        ctx.close()
    if not result.changes:
        typer.echo(f"peering {region} <-> {peer_region} is up to date (no changes)")
        return
    typer.echo(f"peered {region} <-> {peer_region}:")
    for change in result.changes:
        typer.echo(f"  {change}")
    typer.echo(_peering_line(result.peering))
    # Late peering: breakouts made before it route over it once the sweep has run.
    typer.echo(f"breakouts whose devices break out across it get their routes at the next "
               f"breakout sweep (every {settings.breakout_sweep_interval_seconds} s)")  # fmt: skip


@app.command("unpeer")
def unpeer_cmd(region: Here, peer_region: Peer, data_dir: DataDir = None) -> None:
    """Remove a peering and its routes; refused while a breakout routes over it."""
    settings = load_settings(data_dir)
    ctx = open_context(settings)
    try:
        changes = peering.unpeer(factory=ctx.sessionmaker, cloud=make_cloud(settings, region),
                                 settings=settings, region=region, peer_region=peer_region,
                                 dependents=crossregion.dependents)  # fmt: skip
    finally:
        ctx.close()
    typer.echo(f"unpeered {region} <-> {peer_region}:")
    for change in changes:
        typer.echo(f"  {change}")
