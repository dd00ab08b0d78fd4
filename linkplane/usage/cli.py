"""``linkplane usage ...``: the provider's usage records (import) and demo data (simulate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from linkplane.access.network import DEFAULT_OPERATOR_ID, Network
from linkplane.access.service import Refusal
from linkplane.blocklists.rats import DEFAULT_RAT_ID
from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.errors import InvalidInput, NotFound
from linkplane.tenancy.models import Organisation
from linkplane.usage import importer, service, simulate

app = typer.Typer(no_args_is_help=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir")]


@app.command("import")
def import_usage(
    file: Annotated[
        Path, typer.Argument(help="CSV: iccid or endpoint_id, date, [hour,] bytes_tx, bytes_rx")
    ],
    data_dir: DataDir = None,
) -> None:
    """Add the mobile core's daily records (any organisation); a bad row stores nothing."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}", field="file") from None
    rows = importer.parse(text)
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            result = service.store_usage(session=session, rows=rows)
    finally:
        ctx.close()
    typer.echo(f"imported {len(rows)} usage records ({result.written} endpoint-days updated)")
    _report_refused(result.refused)


def _report_refused(refused: list[Refusal]) -> None:
    for r in refused:
        typer.echo(f"refused {r.refused_bytes} bytes of endpoint {r.endpoint_id}: {r.reason}")


@app.command("simulate")
def simulate_usage(
    org: Annotated[str, typer.Option("--org", help="organisation whose endpoints to fill")],
    days: Annotated[int, typer.Option("--days", help="days up to today")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same numbers")] = 1,
    operator: Annotated[int, typer.Option("--operator", help="visited network (operator id)")]
    = DEFAULT_OPERATOR_ID,
    rat: Annotated[int, typer.Option("--rat", help="RAT type id")] = DEFAULT_RAT_ID,
    data_dir: DataDir = None,
) -> None:
    """SIMULATED usage for demos: plausible, deterministic, and not real traffic."""
    network = Network(operator, rat).checked()
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.name == org))
            if org_id is None:
                raise NotFound(f"no organisation named {org!r}", field="org")
            sim = simulate.simulate_usage(
                session=session, org_id=org_id, days=days, seed=seed, network=network
            )
    finally:
        ctx.close()
    typer.echo(
        f"SIMULATED usage (not real traffic): {sim.written} endpoint-days for {sim.endpoints} "
        f"endpoints of {org} over the last {days} days (seed {seed}) on {network.describe()}"
    )
    for endpoint_id, why in sim.not_attached:
        typer.echo(f"endpoint {endpoint_id} not attached: {why}")
    _report_refused(sim.refused)
