"""``linkplane callbacks worker``: a process that delivers API callbacks (MO SMS)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from linkplane.callbacks.worker import CallbackWorker
from linkplane.context import load_settings, open_context

app = typer.Typer(no_args_is_help=True)


@app.command("worker")
def worker(
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
    once: Annotated[
        bool, typer.Option("--once", help="deliver what is due now, then exit")
    ] = False,
) -> None:
    """Deliver queued callbacks until stopped (SIGTERM/Ctrl-C); any number may run at once."""
    ctx = open_context(load_settings(data_dir))
    try:
        runner = CallbackWorker(factory=ctx.sessionmaker, settings=ctx.settings)
        if once:
            typer.echo(f"attempted {runner.run_once()} callback deliveries")
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: runner.stop())
        typer.echo("delivering callbacks (stop with Ctrl-C or SIGTERM)")
        runner.run_forever()
    finally:
        ctx.close()
