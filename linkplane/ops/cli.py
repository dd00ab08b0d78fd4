"""``linkplane settings``: the configuration reference."""

from __future__ import annotations

from pathlib import Path

import typer

from linkplane.errors import Conflict
from linkplane.ops.settings_doc import render

app = typer.Typer(no_args_is_help=True)

OutputOpt = typer.Option(None, "--output", "-o", help="Write the page here instead of stdout.")
CheckOpt = typer.Option(
    None, "--check", help="Exit non-zero when this committed page differs from the settings."
)


@app.command("doc")
def doc(output: Path | None = OutputOpt, check: Path | None = CheckOpt) -> None:
    """The reference of every LINKPLANE_* variable (docs/configuration.md), as Markdown."""
    try:
        page = render()
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    if check is not None:
        if not check.exists() or check.read_text() != page:
            raise Conflict(f"{check} is out of date: run `linkplane settings doc -o {check}`")
        typer.echo(f"{check} is up to date")
    elif output is not None:
        output.write_text(page)
        typer.echo(f"wrote {output}")
    else:
        typer.echo(page, nl=False)
