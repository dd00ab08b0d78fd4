"""``linkplane breakout ...``: Cloud Connect breakouts over the HTTP API, like any client.

Every command finds the API (``--api-url``, else the ``runtime.json`` that ``linkplane up``
wrote into ``--data-dir``), authenticates with ``POST /api/v1/authenticate`` (``--email`` /
``--password``, LINKPLANE_EMAIL / LINKPLANE_PASSWORD, or an application token in
LINKPLANE_TOKEN) and calls the emnify-compatible routes. API errors reach ``linkplane.cli.main``
as domain errors and are printed as one line naming the field.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from linkplane.apiclient import ApiClient, Credentials, resolve_api_url
from linkplane.attachments import progress
from linkplane.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Cloud Connect breakouts over the HTTP API.")

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory of a running `linkplane up`."),
]
ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", help="API base URL (default: from --data-dir's runtime.json)."),
]
Email = Annotated[str | None, typer.Option("--email", envvar="LINKPLANE_EMAIL", help="User.")]
Password = Annotated[
    str | None,
    typer.Option("--password", envvar="LINKPLANE_PASSWORD", help="User's password."),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="LINKPLANE_TOKEN", help="Application token (wins)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON body.")]
Wait = Annotated[bool, typer.Option("--wait", help="Show progress until it settles.")]
Timeout = Annotated[
    float, typer.Option("--timeout", help="Give up waiting after SECONDS (0: never).")
]
BreakoutId = Annotated[int, typer.Argument(help="Breakout id.")]


@dataclass(frozen=True)
class Connection:
    data_dir: Path | None
    api_url: str | None
    email: str | None
    password: str | None
    token: str | None

    def open(self) -> ApiClient:
        data_dir = self.data_dir or Settings().data_dir
        client = ApiClient(resolve_api_url(self.api_url, data_dir))
        try:
            client.authenticate(Credentials(self.email, self.password, self.token))
        except Exception:
            client.close()
            raise
        return client


def _path(breakout_id: int) -> str:
    return f"/api/v1/cnc/breakout/{breakout_id}"


def _dump(body: Any) -> None:
    typer.echo(json.dumps(body, indent=2, default=str))


def _wait(client: ApiClient, breakout_id: int, *, target: int, timeout: float) -> None:
    """Show live progress; exit 0 when ``target`` is reached, non-zero otherwise."""
    display = progress.Display(out=sys.stdout, tty=sys.stdout.isatty())
    watch = progress.Watch(client, breakout_id, display, target=target, timeout=timeout)
    outcome, _ = progress.watch(watch)
    raise typer.Exit(int(outcome))


def _request(
    connection: Connection, kind: str, body: dict[str, Any], *, wait: bool, timeout: float,
    as_json: bool,
) -> None:  # fmt: skip
    """POST a breakout of ``kind`` (``tgw`` or ``vpn``), then print it or watch it go Active."""
    with connection.open() as client:
        created = client.request("POST", f"/api/v1/cnc/breakout/{kind}", json=body)
        if as_json:
            _dump(created)
        elif not wait:  # the watch starts with this very line
            typer.echo(f"{progress.summary(created)} - {progress.next_step(created)}")
        if wait:
            _wait(client, created["id"], target=progress.ACTIVE, timeout=timeout)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Breakout name.")],
    account: Annotated[str, typer.Option("--account", help="Customer's 12-digit AWS account.")],
    cidr: Annotated[list[str], typer.Option("--cidr", help="Customer VPC CIDR (repeatable).")],
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    wait: Wait = False,
    timeout: Timeout = 0.0,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Request a Transit Gateway breakout for a customer account (POST /cnc/breakout/tgw)."""
    body = {"type": 1, "name": name, "description": description, "vpc_cidr": cidr,
            "region": region or Settings().default_region, "aws_account_id": account}  # fmt: skip
    connection = Connection(data_dir, api_url, email, password, token)
    _request(connection, "tgw", body, wait=wait, timeout=timeout, as_json=as_json)


@app.command("create-vpn")
def create_vpn(
    name: Annotated[str, typer.Option("--name", help="Breakout name.")],
    public_ip: Annotated[
        str, typer.Option("--public-ip", help="Your VPN server's public IPv4 address.")
    ],
    on_prem_cidr: Annotated[
        list[str],
        typer.Option("--on-prem-cidr", help="A network behind your VPN server (repeatable, 1-3)."),
    ],
    region: Annotated[str | None, typer.Option("--region", help="AWS region.")] = None,
    psk: Annotated[
        str | None, typer.Option("--psk", help="Pre-shared key (default: generated).")
    ] = None,
    bgp: Annotated[
        bool, typer.Option("--bgp", help="BGP routing (type 3) instead of static.")
    ] = False,
    asn: Annotated[int | None, typer.Option("--asn", help="Your router's BGP ASN.")] = None,
    public_ip_2: Annotated[
        str | None,
        typer.Option("--public-ip-2", help=(
            "High availability (type 4, BGP): your second VPN server's public IPv4 address.")),
    ] = None,
    inside_cidr: Annotated[
        list[str] | None,
        typer.Option("--inside-cidr",
                     help="A tunnel's inside /30 (BGP; repeatable, 2, or 4 with HA)."),
    ] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    wait: Wait = False,
    timeout: Timeout = 0.0,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Request an IPsec VPN breakout (POST /cnc/breakout/vpn): static (type 2), BGP (type 3,
    ``--bgp``) or BGP high availability (type 4, ``--public-ip-2``: a second VPN server)."""
    kind = 4 if public_ip_2 else 3 if bgp else 2
    body: dict[str, Any] = {
        "type": kind, "name": name, "description": description,
        "region": region or Settings().default_region, "public_ip": public_ip,
        "on_prem_cidr": on_prem_cidr, "inside_cidr": inside_cidr or [],
        **({"psk": psk} if psk else {}), **({"asn": asn} if asn is not None else {}),
        **({"public_ip_2": public_ip_2} if public_ip_2 else {}),
    }  # fmt: skip
    connection = Connection(data_dir, api_url, email, password, token)
    _request(connection, "vpn", body, wait=wait, timeout=timeout, as_json=as_json)


@app.command("vpn-config")
def vpn_config(
    breakout_id: BreakoutId,
    vendor: Annotated[
        str, typer.Option("--vendor", help="strongswan (swanctl.conf) or generic.")
    ] = "generic",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to FILE (mode 0600: it holds the PSK)."),
    ] = None,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """What to apply to your VPN server: both tunnels, the PSK, proposals (and BGP)."""
    with Connection(data_dir, api_url, email, password, token).open() as client:
        text = client.text(f"{_path(breakout_id)}/vpn_configuration", params={"vendor": vendor})
    if output is None:
        typer.echo(text, nl=False)
        return
    _write_private(output, text)
    typer.echo(f"breakout {breakout_id}: {vendor} configuration written to {output}")


def _write_private(path: Path, text: str) -> None:
    """The configuration holds the pre-shared key: readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as out:
        out.write(text)


@app.command("list")
def list_(
    status: Annotated[
        int | None, typer.Option("--status", help="Only this status id (7: the deleted ones).")
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """List the organisation's breakouts, newest first."""
    params: dict[str, Any] = {"per_page": 1000, **({"status": status} if status else {})}
    with Connection(data_dir, api_url, email, password, token).open() as client:
        rows = client.request("GET", "/api/v1/cnc/breakout", params=params)
    if as_json:
        _dump(rows)
        return
    typer.echo("ID\tSTATUS\tNAME\tREGION\tACCOUNT\tCIDRS")
    for b in rows:
        flag = " (expired)" if b.get("expired") else ""
        # A VPN has no customer account: its VPN server stands in that column.
        account = b["aws_account_id"] or f"vpn:{b.get('public_ip')}"
        typer.echo(f"{b['id']}\t{b['status']['id']} {b['status']['description']}{flag}\t"
                   f"{b['name']}\t{b['region']}\t{account}\t"
                   f"{','.join(b['vpc_cidr'])}")  # fmt: skip


def _show_text(b: dict[str, Any]) -> None:
    typer.echo(progress.summary(b))
    account = b["aws_account_id"] or "-"  # a VPN has no customer account
    typer.echo(f"  name:     {b['name']}  region {b['region']}  account {account}")
    typer.echo(f"  cidrs:    {', '.join(b['vpc_cidr'])}  revision {b['revision']}")
    typer.echo(f"  next:     {progress.next_step(b)}")
    if progress.is_vpn(b):
        typer.echo(f"  vpn:      your server {b.get('public_ip')}, ASN {b.get('asn')}")
        for t in b.get("tunnels") or []:
            typer.echo(f"  tunnel:   {t['outside_address']} ({t['inside_cidr']}): "
                       f"{t['status']}, {t['bytes_in']:g} bytes in, {t['bytes_out']:g} out "
                       "(last hour)")  # fmt: skip
    for key, value in (b.get("aws_resources") or {}).items():
        if value:
            typer.echo(f"  aws {key}: {', '.join(value) if isinstance(value, list) else value}")
    typer.echo("  history:")
    for e in b.get("history") or []:
        typer.echo(f"    {e['timestamp']}  {e['actor']}: {e['description']}")


@app.command("show")
def show(
    breakout_id: BreakoutId,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """One breakout: state, what happens next, its AWS resources and history."""
    with Connection(data_dir, api_url, email, password, token).open() as client:
        b = client.request("GET", _path(breakout_id))[0]
    _dump(b) if as_json else _show_text(b)


@app.command("delete")
def delete(
    breakout_id: BreakoutId,
    wait: Wait = False,
    timeout: Timeout = 0.0,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Delete a breakout: its AWS resources are removed in reverse (status 6, then 7)."""
    with Connection(data_dir, api_url, email, password, token).open() as client:
        client.request("DELETE", _path(breakout_id))
        typer.echo(f"breakout {breakout_id}: deletion requested")
        if wait:
            _wait(client, breakout_id, target=progress.DEACTIVATED, timeout=timeout)


@app.command("retry")
def retry(
    breakout_id: BreakoutId,
    wait: Wait = False,
    timeout: Timeout = 0.0,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Retry an expired breakout (PATCH): a fresh invitation and wait, revision + 1."""
    with Connection(data_dir, api_url, email, password, token).open() as client:
        client.request("PATCH", _path(breakout_id))
        b = client.request("GET", _path(breakout_id))[0]
        typer.echo(f"{progress.summary(b)} (revision {b['revision']}) - {progress.next_step(b)}")
        if wait:
            _wait(client, breakout_id, target=progress.ACTIVE, timeout=timeout)


@app.command("recheck")
def recheck(
    breakout_id: BreakoutId,
    data_dir: DataDir = None,
    api_url: ApiUrl = None,
    email: Email = None,
    password: Password = None,
    token: Token = None,
) -> None:
    """Make a waiting breakout check the invitation / attachment now."""
    with Connection(data_dir, api_url, email, password, token).open() as client:
        client.request("POST", f"{_path(breakout_id)}/recheck")
    typer.echo(f"breakout {breakout_id}: re-check requested")
