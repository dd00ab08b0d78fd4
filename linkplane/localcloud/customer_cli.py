"""``linkplane customer``: act as a customer AWS account (plain boto3, public API only).

Against the embedded cloud (``--endpoint-url``, or the ``--data-dir`` of a running
``linkplane up``) the account is reached by STS assume-role. Without an endpoint this talks
to real AWS with your own credentials, which must belong to ``--account``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import boto3
import typer

from linkplane.context import read_runtime
from linkplane.errors import InvalidInput
from linkplane.localcloud.customer import Customer
from linkplane.settings import ACCOUNT_ID_RE, Settings

app = typer.Typer(no_args_is_help=True)
invitations = typer.Typer(no_args_is_help=True, help="RAM invitations sent to this account.")
vpc = typer.Typer(no_args_is_help=True, help="The customer's VPCs.")
attach = typer.Typer(no_args_is_help=True, help="Transit Gateway attachments of this account.")
app.add_typer(invitations, name="invitations")
app.add_typer(vpc, name="vpc")
app.add_typer(attach, name="attach")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _endpoint(endpoint_url: str | None, data_dir: Path | None) -> str | None:
    if endpoint_url:
        return endpoint_url
    directory = data_dir or Settings().data_dir
    runtime = read_runtime(directory)
    endpoint = runtime.get("cloud_endpoint")
    if data_dir is not None and not endpoint:
        raise InvalidInput(
            f"no running linkplane in {data_dir} (no runtime.json); start `linkplane up` "
            "or pass --endpoint-url",
            field="data_dir",
        )
    return str(endpoint) if endpoint else None


def _customer(state: dict[str, Any]) -> Customer:
    account, region, endpoint = state["account"], state["region"], state["endpoint"]
    if endpoint:
        return Customer.assume(account, region=region, endpoint_url=endpoint)
    customer = Customer(boto3.Session(region_name=region), endpoint_url=None)
    actual = customer.account_id()
    if actual != account:
        raise InvalidInput(
            f"your AWS credentials belong to account {actual}, not {account}", field="account"
        )
    return customer


@app.callback()
def main(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="The customer's 12-digit account.")],
    region: Annotated[str, typer.Option("--region")] = "eu-central-1",
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="Embedded cloud URL.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Use the cloud of this `linkplane up`.")
    ] = None,
) -> None:
    """Act as a customer AWS account."""
    if not ACCOUNT_ID_RE.match(account):
        raise InvalidInput(f"--account must be 12 digits, got {account!r}", field="account")
    if endpoint_url and data_dir:
        raise InvalidInput("pass --endpoint-url or --data-dir, not both", field="endpoint_url")
    ctx.obj = {"account": account, "region": region, "endpoint": _endpoint(endpoint_url, data_dir)}


def _emit(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        for line in lines:
            typer.echo(line)


@invitations.command("list")
def invitations_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Invitations to resource shares (PENDING ones can be accepted or rejected)."""
    found = _customer(ctx.obj).invitations()
    lines = [f"{i.arn}  {i.status}  share={i.share_name} from={i.sender}" for i in found]
    _emit([asdict(i) for i in found], as_json, lines or ["no invitations"])


@invitations.command("accept")
def invitations_accept(
    ctx: typer.Context,
    arn: Annotated[
        str | None, typer.Argument(help="Invitation ARN; default: the one pending.")
    ] = None,
) -> None:
    """Accept an invitation: the shared Transit Gateway becomes visible to this account."""
    inv = _customer(ctx.obj).accept(arn)
    typer.echo(f"{inv.arn} {inv.status}")


@invitations.command("reject")
def invitations_reject(
    ctx: typer.Context,
    arn: Annotated[
        str | None, typer.Argument(help="Invitation ARN; default: the one pending.")
    ] = None,
) -> None:
    """Reject an invitation."""
    inv = _customer(ctx.obj).reject(arn)
    typer.echo(f"{inv.arn} {inv.status}")


@vpc.command("create")
def vpc_create(
    ctx: typer.Context,
    cidr: Annotated[str, typer.Option("--cidr", help="VPC CIDR, e.g. 10.20.0.0/16.")],
    azs: Annotated[int, typer.Option("--azs", help="Subnets, one per AZ.")] = 2,
    as_json: AsJson = False,
) -> None:
    """Create a VPC with one subnet per Availability Zone."""
    made = _customer(ctx.obj).create_vpc(cidr=cidr, azs=azs)
    lines = [f"{made.vpc_id} {made.cidr}"]
    lines += [f"  {s['id']} {s['cidr']} {s['az']}" for s in made.subnets]
    _emit(asdict(made), as_json, lines)


@attach.command("create")
def attach_create(
    ctx: typer.Context,
    tgw_id: Annotated[str, typer.Option("--tgw-id", help="The shared Transit Gateway.")],
    vpc_id: Annotated[str, typer.Option("--vpc-id", help="Your VPC.")],
    subnet_id: Annotated[
        list[str] | None, typer.Option("--subnet-id", help="Repeatable; default one per AZ.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Attach a VPC to the shared TGW (pendingAcceptance until the provider accepts)."""
    row = _customer(ctx.obj).create_attachment(tgw_id=tgw_id, vpc_id=vpc_id, subnet_ids=subnet_id)
    _emit(row, as_json, [f"{row['id']} {row['state']} tgw={row['tgw_id']} vpc={row['vpc_id']}"])


@attach.command("delete")
def attach_delete(
    ctx: typer.Context, attachment_id: Annotated[str, typer.Argument(help="Attachment id.")]
) -> None:
    """Delete one of this account's TGW attachments."""
    state = _customer(ctx.obj).delete_attachment(attachment_id)
    typer.echo(f"{attachment_id} {state}")


@attach.command("list")
def attach_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """This account's Transit Gateway attachments."""
    rows = _customer(ctx.obj).attachments()
    lines = [f"{r['id']} {r['state']} tgw={r['tgw_id']} vpc={r['resource_id']}" for r in rows]
    _emit(rows, as_json, lines or ["no attachments"])
