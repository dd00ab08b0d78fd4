"""``linkplane tariff ...``: the provider's tariff catalogue (what organisations choose from)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkplane.context import load_settings, open_context
from linkplane.tariffs import service
from linkplane.tariffs.models import CURRENCIES

app = typer.Typer(no_args_is_help=True, help="The provider's tariff catalogue.")

DataDir = Annotated[Path | None, typer.Option("--data-dir")]


@app.command("list")
def list_catalogue(data_dir: DataDir = None) -> None:
    """Every tariff with its rate zones and the inclusive volumes they offer."""
    ctx = open_context(load_settings(data_dir))
    try:
        with ctx.sessionmaker() as session:
            tariffs = service.list_tariffs(session=session, active_only=False)
            zones = service.ratezones(session=session, tariff_ids=[t.id for t in tariffs])
            for tariff in tariffs:
                code, _ = CURRENCIES.get(tariff.currency_id, ("?", ""))
                typer.echo(f"tariff {tariff.id} {tariff.name!r} ({code}, status "
                           f"{tariff.status_id})")  # fmt: skip
                for zone in (z for z in zones if z.tariff_id == tariff.id):
                    offers = service.offers(session=session, tariff_id=tariff.id,
                                            ratezone_id=zone.id)  # fmt: skip
                    listed = ", ".join(f"#{o.id} {o.volume:g} MB for {o.rate:.2f}" for o in offers)
                    typer.echo(f"  rate zone {zone.id} {zone.name!r}: {listed or 'no offers'}")
    finally:
        ctx.close()
