"""``linkplane usage ...``: the provider's usage records (import) and demo data (simulate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

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
            written = service.record_usage(session=session, rows=rows)
    finally:
        ctx.close()
    typer.echo(f"imported {len(rows)} usage records ({written} endpoint-days updated)")


@app.command("simulate")
def simulate_usage(
    org: Annotated[str, typer.Option("--org", help="organisation whose endpoints to fill")],
    days: Annotated[int, typer.Option("--days", help="days up to today")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same numbers")] = 1,
    data_dir: DataDir = None,
) -> None:
    """SIMULATED usage for demos: plausible, deterministic, and not real traffic."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.name == org))
            if org_id is None:
                raise NotFound(f"no organisation named {org!r}", field="org")
            endpoints, written = simulate.simulate_usage(
                session=session, org_id=org_id, days=days, seed=seed
            )
    finally:
        ctx.close()
    typer.echo(
        f"SIMULATED usage (not real traffic): {written} endpoint-days for {endpoints} "
        f"endpoints of {org} over the last {days} days (seed {seed})"
    )
