"""``linkplane sims ...``: the provider's SIM inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.errors import InvalidInput, NotFound
from linkplane.sims import importer, service
from linkplane.tenancy.models import Organisation

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_sims(
    file: Annotated[Path, typer.Argument(help="CSV with columns iccid, imsi, msisdn, bic")],
    org: Annotated[str, typer.Option("--org", help="organisation the SIMs are shipped to")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
) -> None:
    """Load SIMs shipped to an organisation; a file with any bad row stores nothing."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}", field="file") from None
    rows = importer.parse(text)
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.name == org))
            if org_id is None:
                raise NotFound(f"no organisation named {org!r}", field="org")
            bics = service.import_rows(session=session, org_id=org_id, rows=rows)
    finally:
        ctx.close()
    typer.echo(f"imported {len(rows)} SIMs for {org} (BIC {', '.join(bics)})")
