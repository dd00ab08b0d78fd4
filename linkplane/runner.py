"""``linkplane up``: the embedded cloud, the service and its workers in one command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def up() -> None:
        """Run linkplane with its embedded defaults."""
        raise typer.Exit(1)
