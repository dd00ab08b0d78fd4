"""``linkplane mfa reset``: the provider's way back in for a user who lost their
authenticator and has no administrator to delete the key over the API. Whoever can run it
can read the data directory, so it is trusted like a provider administrator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.mfa import service

app = typer.Typer(no_args_is_help=True, help="Multi-factor authentication of users.")


@app.command("reset")
def reset(
    username: Annotated[str, typer.Argument(help="The user's e-mail address")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory of `linkplane up`")
    ] = None,
) -> None:
    """Delete the user's MFA keys and trusted devices: they sign in with the password alone
    and enrol again."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            removed = service.reset(session=session, username=username)
        typer.echo(f"removed {removed} MFA key(s) of {username}")
    finally:
        ctx.close()
