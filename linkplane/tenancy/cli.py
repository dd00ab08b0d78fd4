"""``linkplane org ...``: provider-side organisation management over the database.

These commands open the same data directory (and database) as ``linkplane up`` and work
while it runs (SQLite in WAL mode, or PostgreSQL). Whoever can run them can read the data
directory, so they are trusted like a provider administrator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.tenancy import service

app = typer.Typer(no_args_is_help=True, help="Organisations (tenants) and their admins.")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory of `linkplane up` (default: ~/.local/share)"),
]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Organisation name (unique)")],
    admin_email: Annotated[str, typer.Option("--admin-email", help="First admin's e-mail")],
    admin_password: Annotated[
        str,
        typer.Option(
            "--admin-password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="LINKPLANE_ADMIN_PASSWORD",
            help="First admin's password (prompted if omitted)",
        ),
    ],
    provider: Annotated[
        bool, typer.Option("--provider", help="Its admins manage all organisations")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Add an organisation with its first administrator."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            org, admin = service.create_org_with_admin(
                session=session,
                name=name,
                admin_email=admin_email,
                admin_password=admin_password,
                is_provider=provider,
            )
            kind = "provider organisation" if provider else "organisation"
            typer.echo(f"created {kind} {org.name} (id {org.id}) with admin {admin.username}")
    finally:
        ctx.close()


@app.command("list")
def list_(data_dir: DataDir = None) -> None:
    """List organisations: id, name, provider flag."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            orgs, _ = service.list_orgs(session=session, offset=0, limit=100_000)
            for org in orgs:
                flag = "  provider" if org.is_provider else ""
                typer.echo(f"{org.id}\t{org.name}{flag}")
    finally:
        ctx.close()
