"""``linkplane cloud``: serve the embedded AWS cloud on a local address."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from linkplane.localcloud import ram_state, server, throttle

app = typer.Typer(no_args_is_help=True)


def _banner(endpoint: str) -> str:
    return "\n".join(
        [
            f"embedded cloud listening on {endpoint}",
            "use it with, for example:",
            f"  export AWS_ENDPOINT_URL={endpoint}",
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
            "  export AWS_DEFAULT_REGION=eu-central-1",
            "  aws ec2 describe-transit-gateways",
            "press Ctrl-C to stop",
        ]
    )


def _stop_on_signal() -> threading.Event:
    """Install the handlers before readiness is announced, so an early SIGTERM is clean."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 4566,
    throttling: Annotated[
        bool, typer.Option("--throttling", help="Throttle EC2/RAM calls as AWS does.")
    ] = False,
    invitation_ttl: Annotated[
        float | None,
        typer.Option(help="Seconds before a RAM invitation expires (AWS: 7 days).", min=0.001),
    ] = None,
    read_bucket: Annotated[float, typer.Option(help="Non-mutating bucket size.", min=1)] = 100,
    read_refill: Annotated[float, typer.Option(help="Non-mutating refill per second.", min=0)] = 20,
    write_bucket: Annotated[float, typer.Option(help="Mutating bucket size.", min=1)] = 50,
    write_refill: Annotated[float, typer.Option(help="Mutating refill per second.", min=0)] = 5,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Keep the cloud's state here: loaded at start, "
                     "snapshotted periodically and at shutdown (default: in memory only)."),
    ] = None,
    snapshot_every: Annotated[
        float, typer.Option(help="Seconds between snapshots (with --data-dir).", min=0.1)
    ] = 15,
) -> None:
    """Serve the embedded cloud (moto + linkplane's TGW/RAM extension) until Ctrl-C or SIGTERM."""
    throttle.configure(
        enabled=True if throttling else None,
        non_mutating=throttle.Rate(read_bucket, read_refill),
        mutating=throttle.Rate(write_bucket, write_refill),
    )
    if invitation_ttl is not None:
        ram_state.set_invitation_ttl(invitation_ttl)
    stop = _stop_on_signal()
    keep = server.Persistence(data_dir, snapshot_every) if data_dir is not None else None
    running = server.start(host, port, keep)
    if running.loaded.reset_reason:
        typer.echo(f"embedded cloud RESET, started empty: {running.loaded.reset_reason}")
    elif running.loaded.existed:
        typer.echo(f"embedded cloud state restored from {data_dir}")
    typer.echo(_banner(running.endpoint_url), nl=True)
    try:
        stop.wait()
    finally:
        running.stop()
        typer.echo("embedded cloud stopped")
