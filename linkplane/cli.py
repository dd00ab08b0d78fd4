"""The ``linkplane`` command: thin typer commands over the services or the HTTP API.

Errors are translated once, in :func:`main`: a one-line message and a non-zero exit.
"""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from linkplane.errors import LinkplaneError

app = typer.Typer(
    name="linkplane",
    help="Private connectivity from IoT fleets into customers' AWS VPCs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    # Each feature owns its commands; this only mounts them.
    from linkplane.attachments.cli import app as breakout_app
    from linkplane.callbacks.cli import app as callbacks_app
    from linkplane.demo import register as register_demo
    from linkplane.isolation.cli import register as register_isolation
    from linkplane.localcloud.cli import app as cloud_app
    from linkplane.localcloud.customer_cli import app as customer_app
    from linkplane.mfa.cli import app as mfa_app
    from linkplane.ops.cli import app as settings_app
    from linkplane.process.commands import register as register_processes
    from linkplane.process.up import register as register_up
    from linkplane.regions.cli import app as region_app
    from linkplane.sims.cli import app as sims_app
    from linkplane.sms.cli import app as sms_app
    from linkplane.tariffs.cli import app as tariff_app
    from linkplane.tenancy.cli import app as org_app
    from linkplane.usage.cli import app as usage_app

    app.add_typer(cloud_app, name="cloud", help="The embedded AWS cloud.")
    app.add_typer(region_app, name="region", help="Regional Transit Gateway bootstrap.")
    app.add_typer(customer_app, name="customer", help="Act as a customer AWS account.")
    app.add_typer(org_app, name="org", help="Organisations (tenants) and their admins.")
    app.add_typer(mfa_app, name="mfa", help="Multi-factor authentication of users.")
    app.add_typer(sims_app, name="sims", help="SIM inventory shipped to organisations.")
    app.add_typer(usage_app, name="usage", help="Data usage records of endpoints.")
    app.add_typer(tariff_app, name="tariff", help="The provider's tariff catalogue.")
    app.add_typer(sms_app, name="sms", help="SMS of endpoints (simulated devices).")
    app.add_typer(callbacks_app, name="callbacks", help="API callback delivery (MO SMS).")
    register_up(app)
    register_processes(app)  # migrate, serve, worker
    register_isolation(app)  # verify, audit, policy, lab
    app.add_typer(breakout_app, name="breakout", help="Cloud Connect breakouts (over the API).")
    register_demo(app)
    app.add_typer(settings_app, name="settings", help="The configuration reference.")


def main() -> None:
    from linkplane.process.hooks import register_reserved_cidrs

    _register()
    register_reserved_cidrs()  # this process may create address spaces (e.g. the demo fleet)
    try:
        app()
    except LinkplaneError as exc:
        where = f" ({exc.field})" if exc.field else ""
        typer.secho(f"error{where}: {exc.message}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except ValidationError as exc:  # settings from the environment that do not hold
        for problem in exc.errors():
            where = " ".join(["settings", *(str(p) for p in problem["loc"])])
            message = str(problem["msg"]).removeprefix("Value error, ")
            typer.secho(f"error ({where}): {message}", err=True, fg=typer.colors.RED)
        sys.exit(2)
