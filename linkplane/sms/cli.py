"""``linkplane sms simulate ...``: drive a simulated device (no radio network here).

Works on the data directory's database like ``linkplane usage simulate``, also while
``linkplane up`` runs. A refused attach or SMS exits with status 3 after its event is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.access.network import DEFAULT_OPERATOR_ID, Network
from linkplane.blocklists.rats import DEFAULT_RAT_ID
from linkplane.context import load_settings, open_context
from linkplane.db import transaction
from linkplane.errors import NotFound
from linkplane.sms import device
from linkplane.tenancy.models import Organisation

app = typer.Typer(no_args_is_help=True)
simulate = typer.Typer(no_args_is_help=True, help="Act as a device: receive and send SMS.")
app.add_typer(simulate, name="simulate")

DataDir = Annotated[Path | None, typer.Option("--data-dir")]
Org = Annotated[str, typer.Option("--org", help="organisation of the endpoint")]
EndpointOpt = Annotated[int, typer.Option("--endpoint", help="endpoint id")]
OperatorOpt = Annotated[
    int, typer.Option("--operator", help="visited network: operator id (GET /api/v1/operator)")
]
RatOpt = Annotated[int, typer.Option("--rat", help="RAT type id (GET /api/v1/rat_type)")]
REFUSED = 3
T = TypeVar("T")


def _as_device(data_dir: Path | None, org: str, act: Callable[[Session, int], T]) -> T:
    """Run ``act(session, org_id)`` in one committed transaction of the data directory."""
    ctx = open_context(load_settings(data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            org_id = session.scalar(select(Organisation.id).where(Organisation.name == org))
            if org_id is None:
                raise NotFound(f"no organisation named {org!r}", field="org")
            return act(session, int(org_id))
    finally:
        ctx.close()


@simulate.command("receive")
def receive(
    org: Org,
    endpoint: EndpointOpt,
    operator: OperatorOpt = DEFAULT_OPERATOR_ID,
    rat: RatOpt = DEFAULT_RAT_ID,
    no_ack: Annotated[
        bool, typer.Option("--no-ack", help="receive but do not acknowledge")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """SIMULATED device: attach, take the SMS waiting for it, acknowledge them."""
    network = Network(operator, rat).checked()

    def act(session: Session, org_id: int) -> tuple[device.Reception, list[str]]:
        got = device.receive(session=session, org_id=org_id, endpoint_id=endpoint,
                             network=network, acknowledge=not no_ack)  # fmt: skip
        lines = [f"delivered SMS {s.id}: {s.payload}" for s in got.delivered]
        lines += [f"held SMS {s.id}: {why}" for s, why in got.held]
        lines += [f"not acknowledged SMS {s.id} (buffered)" for s in got.unacknowledged]
        return got, lines

    got, lines = _as_device(data_dir, org, act)
    if got.refused:
        typer.echo(f"SIMULATED attach to {network.describe()} refused: {got.refused}", err=True)
        raise typer.Exit(REFUSED)
    typer.echo(f"SIMULATED device of endpoint {endpoint} on {network.describe()}")
    typer.echo("\n".join(lines) if lines else "no SMS waiting")


@simulate.command("send")
def send(
    org: Org,
    endpoint: EndpointOpt,
    payload: Annotated[str, typer.Option("--payload", help="the SMS text (1-160 characters)")],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="destination (default: the sender of the last SMS to the device)"
        ),
    ] = None,
    operator: OperatorOpt = DEFAULT_OPERATOR_ID,
    rat: RatOpt = DEFAULT_RAT_ID,
    data_dir: DataDir = None,
) -> None:
    """SIMULATED device: send an SMS; it goes to the service profile's API callback."""
    network = Network(operator, rat).checked()

    def act(session: Session, org_id: int) -> tuple[device.Sent, int | None]:
        sent = device.send(session=session, org_id=org_id, endpoint_id=endpoint,
                           payload=payload, network=network, dest_address=to)  # fmt: skip
        return sent, sent.sms.id if sent.sms else None

    sent, sms_id = _as_device(data_dir, org, act)
    if sent.refused:
        typer.echo(f"SIMULATED SMS from endpoint {endpoint} refused: {sent.refused}", err=True)
        raise typer.Exit(REFUSED)
    where = "queued for the API callback" if sent.callback_queued else "no API callback set"
    typer.echo(f"SIMULATED SMS {sms_id} sent by endpoint {endpoint} ({where})")
