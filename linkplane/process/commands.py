"""The process commands: ``linkplane migrate``, ``serve`` and ``worker`` (``up`` is in
:mod:`.up`). Each reads its configuration from ``LINKPLANE_*`` (docs/deploy.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate() -> None:
        """Create or upgrade the database schema and DBOS's tables (idempotent; safe while
        older processes still serve)."""
        from linkplane.process.base import process_settings
        from linkplane.process.migrate import run_migrations

        typer.echo(json.dumps(run_migrations(process_settings())))

    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="Listen address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Listen port.")] = 8080,
    ) -> None:
        """Serve the API and the portal (no workflow runs here: workers run them)."""
        from linkplane.process.serve import run

        run(host, port)

    @app.command()
    def worker(
        metrics_port: Annotated[
            int | None,
            typer.Option("--metrics-port", help="Serve /health, /ready and /metrics on this port."),
        ] = None,
        metrics_host: Annotated[
            str, typer.Option("--metrics-host", help="Listen address of --metrics-port.")
        ] = "127.0.0.1",
    ) -> None:
        """Run workflows, the sweep, the watch and the reconciler until SIGTERM."""
        from linkplane.process import worker as root
        from linkplane.process.base import stop_on_signals

        metrics = (metrics_host, metrics_port) if metrics_port is not None else None
        root.run(stop_on_signals(), metrics)
