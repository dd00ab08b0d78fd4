"""``linkplane verify | audit | policy | lab``: thin commands over :mod:`.service` and
:mod:`.lab`. Given the ``--data-dir`` of a running ``linkplane up`` they use its embedded
cloud (``runtime.json``); otherwise the configured AWS endpoint.

Exit codes: 0 clean; 1 violations (verify), drift found without ``--repair`` or a repair
that failed (audit); 2 errors (translated once in ``linkplane.cli.main``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from linkplane.cloud.errors import CloudError
from linkplane.cloud.factory import make_cloud
from linkplane.context import AppContext, load_settings, open_context
from linkplane.errors import LinkplaneError
from linkplane.isolation import gateway, lab, lab_vpn, service
from linkplane.isolation.service import CloudFor

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory of linkplane up (default: settings)."),
]
Region = Annotated[str | None, typer.Option("--region", help="Only this region.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

policy_app = typer.Typer(no_args_is_help=True, help="The core gateway's nftables policy.")
lab_app = typer.Typer(no_args_is_help=True, help="Network-namespace lab with real packets.")


class CloudUnavailable(LinkplaneError):
    code = "cloud_unavailable"


@contextmanager
def _opened(data_dir: Path | None) -> Iterator[tuple[AppContext, CloudFor]]:
    """The data directory's database and a cloud port per region; cloud errors become one
    LinkplaneError here (the CLI's boundary)."""
    settings = load_settings(data_dir)
    ctx = open_context(settings)
    try:
        yield ctx, lambda region: make_cloud(settings, region)
    except CloudError as exc:
        raise CloudUnavailable(f"the cloud answered with an error: {exc}") from exc
    finally:
        ctx.close()


def verify_cmd(data_dir: DataDir = None, region: Region = None, as_json: Json = False) -> None:
    """Check every (organisation device range, customer CIDR) pair: live TGW routing plus
    the applied core policy. Exit 1 on any violation."""
    with _opened(data_dir) as (ctx, cloud_for):
        result = service.verify_isolation(
            settings=ctx.settings, factory=ctx.sessionmaker, cloud_for=cloud_for, region=region
        )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        typer.echo(f"core policy: {result.policy_source}")
        for name, report in result.reports.items():
            typer.echo(f"region {name}")
            typer.echo(report.to_text())
        if not result.reports:
            typer.echo("no bootstrapped region: nothing to verify")
    raise typer.Exit(0 if result.ok else 1)


def audit_cmd(
    repair: Annotated[bool, typer.Option("--repair", help="Fix the drift (idempotent).")] = False,
    data_dir: DataDir = None,
    region: Region = None,
    as_json: Json = False,
) -> None:
    """List cloud resources no breakout owns and owned ones missing or changed; --repair
    fixes them and records events; without it nothing changes."""
    from linkplane.durable.client import QueueClient

    with _opened(data_dir) as (ctx, cloud_for):
        workflows = QueueClient(ctx.settings)
        try:
            result = service.audit(settings=ctx.settings, factory=ctx.sessionmaker,
                                   cloud_for=cloud_for, region=region,
                                   workflows=workflows)  # fmt: skip
        finally:
            workflows.close()
        if repair and result.findings:
            result = service.repair(
                factory=ctx.sessionmaker, cloud_for=cloud_for, findings=result.findings
            )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        _print_audit(result, repair)
    failed = result.failed if repair else result.findings
    raise typer.Exit(1 if failed else 0)


def _print_audit(result: service.AuditResult, repair: bool) -> None:
    typer.echo(f"audited region(s): {', '.join(result.regions) or 'none'}")
    if result.ok:
        typer.echo("OK: the cloud matches what the breakouts own.")
        return
    typer.echo(f"{len(result.findings)} finding(s):")
    for f in result.findings:
        fixes = "; ".join(x.describe() for x in f.fixes) or "not repairable by linkplane"
        typer.echo(f"  {f.code}: {f.message}\n      repair: {fixes}")
    for line in result.repaired:
        typer.echo(f"  repaired: {line}")
    for line in result.failed:
        typer.echo(f"  FAILED: {line}")
    if not repair:
        typer.echo("nothing changed; run with --repair to fix")


@policy_app.command("show")
def policy_show(data_dir: DataDir = None) -> None:
    """Print the policy the database calls for now, and whether it is the applied one."""
    with _opened(data_dir) as (ctx, _):
        policy = service.compute_policy(factory=ctx.sessionmaker)
        applied = gateway.read_applied(ctx.settings)
    typer.echo(policy.render(), nl=False)
    same = applied is not None and applied.render() == policy.render()
    typer.echo(f"# digest {policy.digest()}; devices {len(policy.device_org)}; "
               f"{'same as' if same else 'differs from'} the applied policy", err=True)  # fmt: skip


@policy_app.command("export")
def policy_export(
    output: Annotated[Path | None, typer.Option("--output", help="File (default stdout).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write the nftables ruleset (load it with ``nft -f FILE`` on the core gateway)."""
    with _opened(data_dir) as (ctx, _):
        text = service.compute_policy(factory=ctx.sessionmaker).render()
    if output is None:
        typer.echo(text, nl=False)
    else:
        gateway.write_atomically(output, text)
        typer.echo(f"wrote {output}", err=True)


@policy_app.command("apply")
def policy_apply(
    force: Annotated[bool, typer.Option("--force", help="Even with an unchanged digest.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Regenerate, write <data-dir>/policy/core.nft and load it into the gateway namespace."""
    with _opened(data_dir) as (ctx, _):
        r = service.apply_policy(settings=ctx.settings, factory=ctx.sessionmaker, force=force)
    where = f"loaded into {r.loaded_into}" if r.loaded_into else "file only (no gateway namespace)"
    state = "applied" if r.changed else "unchanged"
    counts = f"{r.devices} devices, {r.cidrs} CIDRs"
    typer.echo(f"{state}: {r.path} digest {r.digest[:12]} ({counts}), {where}")


@lab_app.command("up")
def lab_up(data_dir: DataDir = None, region: Region = None) -> None:
    """Build (or re-sync) the namespaces from the database and the live cloud (root); VPN
    breakouts get real tunnels (strongSwan) and BGP (BIRD)."""
    with _opened(data_dir) as (ctx, cloud_for):
        # The embedded cloud runs in `linkplane up`'s process: AWS's side cannot report into
        # it from here, so the tunnels and learned prefixes are printed instead.
        built = lab_vpn.up(settings=ctx.settings, factory=ctx.sessionmaker,
                           cloud_for=cloud_for, region=region)  # fmt: skip
    for line in [*lab.describe(built.summary), *lab_vpn.describe(built)]:
        typer.echo(line)
    p = built.summary.state.prefix
    typer.echo(f"try: ip netns exec {p}-org<id> python {lab.PROBE} ping <device ip> <vpc ip>")


@lab_app.command("check")
def lab_check(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Ping and TCP between every device host and every VPC (and VPN on-prem) host, both
    directions."""
    state = lab.load_state(load_settings(data_dir))
    if state is None:
        raise lab.LabError("the lab is not up; run linkplane lab up")
    probes = lab.matrix(state)
    if as_json:
        typer.echo(json.dumps(lab.to_dict(probes), indent=2))
        return
    for p in probes:
        typer.echo(f"{p.kind:4} {p.src:>15} -> {p.dst:<15} {'reached' if p.ok else 'blocked'}")


@lab_app.command("down")
def lab_down(data_dir: DataDir = None) -> None:
    """Delete the lab's namespaces, listeners, tunnels and BGP speakers."""
    removed = lab_vpn.down(settings=load_settings(data_dir))
    typer.echo(f"removed {len(removed)} namespace(s)")


def register(app: typer.Typer) -> None:
    commands: list[tuple[str, Callable[..., None]]] = [("verify", verify_cmd), ("audit", audit_cmd)]
    for name, fn in commands:
        app.command(name)(fn)
    app.add_typer(policy_app, name="policy")
    app.add_typer(lab_app, name="lab")
