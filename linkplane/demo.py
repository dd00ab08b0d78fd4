"""``linkplane demo``: the talk's demo on the embedded cloud, one narrated line per step.

The provider side goes through the HTTP API like any client; the customer side is plain
boto3 acting as the customer's account (``localcloud.accounts.session_for``), the calls a
customer would make in its own AWS account. Against the ``linkplane up`` of ``--data-dir``
when it runs, else against one started for the demo (and stopped afterwards).

Credentials: LINKPLANE_EMAIL / LINKPLANE_PASSWORD or LINKPLANE_TOKEN when set; else the demo
organisation's admin, with a token signed from the data directory (whoever can read the data
directory is trusted like a provider administrator, as for ``linkplane org``).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from linkplane.apiclient import ApiClient, Credentials
from linkplane.context import load_settings, read_runtime
from linkplane.errors import Conflict, InvalidInput
from linkplane.localcloud import inventory
from linkplane.localcloud.accounts import session_for

BREAKOUT = "/api/v1/cnc/breakout"


@dataclass
class Target:
    """A running linkplane: where its API and embedded cloud are."""

    data_dir: Path
    api_url: str
    cloud_endpoint: str
    region: str
    provider_account: str


def say(text: str) -> None:
    typer.echo(text)


# --- finding or starting linkplane up ------------------------------------------------------
def _running(data_dir: Path) -> Target | None:
    info = read_runtime(data_dir)
    pid = info.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale runtime.json
    except PermissionError:
        pass
    settings = load_settings(data_dir)
    return Target(data_dir, info["api_url"], info["cloud_endpoint"],
                  info.get("region", settings.default_region),
                  info.get("provider_account_id", settings.provider_account_id))  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn_up(data_dir: Path) -> subprocess.Popen[bytes]:
    code = "import sys; from linkplane.cli import main; sys.argv[0] = 'linkplane'; main()"
    # The demo's customer answers at once: short polls keep the workflow's reaction quick.
    env = {"LINKPLANE_BREAKOUT_POLL_MAX_SECONDS": "2", **os.environ}
    log = (data_dir / "up.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", code, "up", "--data-dir", str(data_dir),
         "--port", str(_free_port()), "--cloud-port", str(_free_port())],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip


@contextmanager
def started_up(data_dir: Path, timeout: float = 180.0) -> Iterator[Target]:
    """``linkplane up`` in a child process for the demo's duration (its log: up.log)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    proc = _spawn_up(data_dir)
    try:
        while (target := _running(data_dir)) is None or read_runtime(data_dir)["pid"] != proc.pid:
            if proc.poll() is not None or time.monotonic() - began > timeout:
                raise Conflict(f"linkplane up did not start; see {data_dir / 'up.log'}")
            time.sleep(0.2)
        say(f"started linkplane up in {time.monotonic() - began:.1f}s: API {target.api_url}, "
            f"embedded cloud {target.cloud_endpoint} (log {data_dir / 'up.log'})")  # fmt: skip
        yield target
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def demo_token(data_dir: Path) -> str:
    """An auth token of the demo organisation's admin, signed with the data dir's key."""
    from sqlalchemy import select

    from linkplane.context import open_context
    from linkplane.tenancy.models import Organisation, User
    from linkplane.tenancy.service import mint

    settings = load_settings(data_dir)
    ctx = open_context(settings)
    try:
        with ctx.sessionmaker() as session:
            stmt = select(User.id, User.org_id).join(Organisation, Organisation.id == User.org_id)
            row = session.execute(stmt.where(Organisation.name == "demo", User.role == "admin")
                                  .order_by(User.id)).first()  # fmt: skip
    finally:
        ctx.close()
    if row is None:
        raise InvalidInput(f"no demo organisation in {data_dir}; set LINKPLANE_EMAIL/PASSWORD")
    return mint(settings=settings, org_id=row.org_id, role="admin", user_id=row.id)


def _client(target: Target) -> ApiClient:
    client = ApiClient(target.api_url)
    env = os.environ
    if env.get("LINKPLANE_TOKEN") or (env.get("LINKPLANE_EMAIL") and env.get("LINKPLANE_PASSWORD")):
        client.authenticate(Credentials(env.get("LINKPLANE_EMAIL"), env.get("LINKPLANE_PASSWORD"),
                                        env.get("LINKPLANE_TOKEN")))  # fmt: skip
    else:
        client.use_token(demo_token(target.data_dir))
    return client


# --- the demo --------------------------------------------------------------------------------
@dataclass
class Demo:
    target: Target
    client: ApiClient
    account: str
    began: float

    def aws(self, account: str, service: str) -> Any:
        t = self.target
        session = session_for(account, region=t.region, endpoint_url=t.cloud_endpoint)
        return session.client(service, endpoint_url=t.cloud_endpoint)  # type: ignore[call-overload]

    def get(self, bid: int) -> dict[str, Any]:
        body: list[dict[str, Any]] = self.client.request("GET", f"{BREAKOUT}/{bid}")
        return body[0]

    def recheck(self, bid: int) -> None:
        with contextlib.suppress(Conflict):  # it already moved on
            self.client.request("POST", f"{BREAKOUT}/{bid}/recheck")

    def wait(self, bid: int, until: Callable[[dict[str, Any]], bool], timeout: float = 120.0
             ) -> dict[str, Any]:  # fmt: skip
        """Poll until ``until`` holds, narrating each status it passes through."""
        end, last = time.monotonic() + timeout, None
        while True:
            b = self.get(bid)
            if b["status"]["id"] != last:
                last = b["status"]["id"]
                say(f"     {self.clock()} status {last} {b['status']['description']}")
            if until(b):
                return b
            if b["status"]["id"] == 7 or time.monotonic() > end:
                raise Conflict(f"breakout {bid} stopped at {b['status']['description']}: "
                               f"{b.get('status_reason') or 'timed out'}")  # fmt: skip
            time.sleep(0.2)

    def clock(self) -> str:
        return f"[{time.monotonic() - self.began:5.1f}s]"


def _request(d: Demo, name: str) -> tuple[dict[str, Any], str]:
    """POST the breakout; a CIDR already used on this TGW (earlier demos) -> another one."""
    for _ in range(20):
        cidr = f"10.{random.randint(64, 199)}.{random.randint(0, 255)}.0/24"
        body = {"type": 1, "name": name, "vpc_cidr": [cidr], "region": d.target.region,
                "aws_account_id": d.account, "description": "linkplane demo"}  # fmt: skip
        try:
            return d.client.request("POST", f"{BREAKOUT}/tgw", json=body), cidr
        except InvalidInput as exc:
            if exc.field != "vpc_cidr[0]":
                raise
    raise Conflict("no free /24 for the demo in 10.64.0.0-10.199.255.0")


def _accept(d: Demo, share_arn: str) -> None:
    ram = d.aws(d.account, "ram")
    invitations = ram.get_resource_share_invitations(resourceShareArns=[share_arn])
    pending = [i for i in invitations["resourceShareInvitations"] if i["status"] == "PENDING"]
    if not pending:
        raise Conflict(f"customer {d.account} sees no pending invitation for {share_arn}")
    arn = pending[0]["resourceShareInvitationArn"]
    ram.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    say(f"3. customer {d.account}: accepted the RAM invitation {arn} "
        "(ram.accept_resource_share_invitation)")  # fmt: skip


def _attach(d: Demo, tgw_id: str, cidr: str) -> str:
    ec2 = d.aws(d.account, "ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw_id, VpcId=vpc, SubnetIds=[subnet]
    )["TransitGatewayVpcAttachment"]
    attachment_id: str = att["TransitGatewayAttachmentId"]
    say(f"4. customer {d.account}: created {vpc} ({cidr}) and attached it to {tgw_id}: "
        f"{attachment_id} (ec2.create_transit_gateway_vpc_attachment)")  # fmt: skip
    return attachment_id


def _routes(d: Demo, table_id: str, label: str) -> None:
    ec2 = d.aws(d.target.provider_account, "ec2")
    found = ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table_id,
        Filters=[{"Name": "state", "Values": ["active", "blackhole"]}],
    )["Routes"]
    for r in sorted(found, key=lambda r: r["DestinationCidrBlock"]):
        via = r.get("TransitGatewayAttachments", [])
        to = ", ".join(a["TransitGatewayAttachmentId"] for a in via)
        say(f"     {label} table {table_id}: {r['DestinationCidrBlock']} -> {to or '?'} "
            f"({r['Type']}, {r['State']})")  # fmt: skip


def _inventory(d: Demo) -> inventory.Inventory:
    t = d.target
    return inventory.snapshot(t.cloud_endpoint, [t.provider_account, d.account], [t.region])


def play(target: Target, *, account: str | None = None) -> None:
    """The demo against ``target``; raises (one line) if any step goes wrong."""
    client = _client(target)
    account = account or f"2{random.randint(10**10, 10**11 - 1)}"
    d = Demo(target, client, account, time.monotonic())
    try:
        before = _inventory(d)
        b, cidr = _request(d, "demo-vpc")
        bid = b["id"]
        say(f"1. provider: requested breakout {bid} for customer account {d.account}, {cidr} "
            f"in {target.region} (POST /api/v1/cnc/breakout/tgw)")  # fmt: skip
        b = d.wait(bid, lambda x: bool(x["aws_resources"].get("resource_share_arn")))
        tgw, share = (b["aws_resources"][k] for k in ("transit_gateway_id", "resource_share_arn"))
        say(f"2. linkplane shared transit gateway {tgw} with {d.account} through RAM: {share}")
        _accept(d, share)
        d.recheck(bid)
        b = d.wait(bid, lambda x: x["status"]["id"] == 2)
        attachment = _attach(d, tgw, cidr)
        d.recheck(bid)
        b = d.wait(bid, lambda x: x["status"]["id"] == 5)
        say(f"5. {d.clock()} breakout {bid} is Active: {attachment} accepted, associated, routed")
        say("6. the routes linkplane made, as the provider account sees them:")
        _routes(d, b["aws_resources"]["core_route_table_id"], "core")
        _routes(d, b["aws_resources"]["associated_route_table_id"], "customers")
        client.request("DELETE", f"{BREAKOUT}/{bid}")
        b = d.wait(bid, lambda x: x["status"]["id"] == 7)
        say(f"7. {d.clock()} deleted: breakout {bid} is Deactivated ({b['status_reason']})")
        _check_nothing_left(d, before)
    finally:
        client.close()


def _check_nothing_left(d: Demo, before: inventory.Inventory) -> None:
    stale = _inventory(d).beyond(before)
    accounts = f"{d.target.provider_account} (provider) and {d.account} (customer)"
    if not stale.is_empty():
        raise Conflict(f"left behind in {accounts}: {stale.report()}")
    say(f"8. inventory of {accounts} in {d.target.region}: no share, attachment, association "
        "or route is left beyond what existed before the demo")  # fmt: skip


# --- the VPN demo: linkplane does every AWS step, the customer only configures its router ----
def _request_vpn(d: Demo) -> tuple[dict[str, Any], str]:
    """POST a static VPN breakout; a CIDR already used on this TGW -> another one."""
    for _ in range(20):
        cidr = f"10.{random.randint(64, 199)}.{random.randint(0, 255)}.0/24"
        body = {"type": 2, "name": "demo-vpn", "region": d.target.region,
                "public_ip": f"81.2.69.{random.randint(1, 254)}", "on_prem_cidr": [cidr],
                "description": "linkplane demo (IPsec VPN)"}  # fmt: skip
        try:
            return d.client.request("POST", f"{BREAKOUT}/vpn", json=body), cidr
        except InvalidInput as exc:
            if not (exc.field or "").startswith("on_prem_cidr"):
                raise
    raise Conflict("no free /24 for the demo in 10.64.0.0-10.199.255.0")


def _vpn_resources(d: Demo, bid: int) -> tuple[list[str], list[str]]:
    """The breakout's customer gateways and VPN connections that are not gone (by its tag)."""
    ec2 = d.aws(d.target.provider_account, "ec2")
    tag = [{"Name": "tag:linkplane:breakout", "Values": [str(bid)]}]
    gone = {"deleting", "deleted"}
    mine = {"Key": "linkplane:breakout", "Value": str(bid)}
    # By its tags, not a filter: not every cloud filters customer gateways by tag.
    cgws = [g["CustomerGatewayId"] for g in ec2.describe_customer_gateways()["CustomerGateways"]
            if g["State"] not in gone and mine in g.get("Tags", [])]  # fmt: skip
    vpns = [v["VpnConnectionId"] for v in ec2.describe_vpn_connections(Filters=tag)[
        "VpnConnections"] if v["State"] not in gone]  # fmt: skip
    return cgws, vpns


def _masked(line: str) -> str:
    """A demo's output ends up in terminals and screen recordings: not the PSK."""
    key = "Pre-shared key: "
    return f"{key}******** (the downloaded file has it)" if line.startswith(key) else line


def play_vpn(target: Target) -> None:
    """The static VPN demo against ``target``; raises (one line) if any step goes wrong."""
    client = _client(target)
    d = Demo(target, client, target.provider_account, time.monotonic())
    try:
        before = _inventory(d)
        b, cidr = _request_vpn(d)
        bid = b["id"]
        say(f"1. provider: requested VPN breakout {bid} (static routes) for the customer's VPN "
            f"server {b['public_ip']}, on-prem {cidr}, in {target.region} "
            "(POST /api/v1/cnc/breakout/vpn)")  # fmt: skip
        b = d.wait(bid, lambda x: x["status"]["id"] == 5)
        res = b["aws_resources"]
        say(f"2. {d.clock()} breakout {bid} is Active: customer gateway "
            f"{res['customer_gateway_id']}, VPN connection {res['vpn_connection_id']} on "
            f"{res['transit_gateway_id']}, attachment {b['aws_transit_gateway_attachment_id']}; "
            "no customer action in AWS")  # fmt: skip
        say("3. its tunnels (AWS gives two; up once the customer's router connects):")
        for t in b["tunnels"]:
            say(f"     {t['outside_address']} inside {t['inside_cidr']}: {t['status']}")
        text = client.text(f"{BREAKOUT}/{bid}/vpn_configuration", params={"vendor": "generic"})
        say(f"4. what the customer applies to its router (GET {BREAKOUT}/{bid}/vpn_configuration"
            "?vendor=generic; strongswan gives a swanctl.conf):")  # fmt: skip
        for line in text.splitlines():
            say(f"     {_masked(line)}")
        say("5. the routes linkplane made, as the provider account sees them:")
        _routes(d, res["core_route_table_id"], "core")
        client.request("DELETE", f"{BREAKOUT}/{bid}")
        b = d.wait(bid, lambda x: x["status"]["id"] == 7)
        say(f"6. {d.clock()} deleted: breakout {bid} is Deactivated ({b['status_reason']})")
        _check_vpn_gone(d, bid, before)
    finally:
        client.close()


def _check_vpn_gone(d: Demo, bid: int, before: inventory.Inventory) -> None:
    cgws, vpns = _vpn_resources(d, bid)
    if cgws or vpns:
        raise Conflict(f"left behind: customer gateways {cgws}, VPN connections {vpns}")
    stale = _inventory(d).beyond(before)
    if not stale.is_empty():
        raise Conflict(f"left behind in {d.target.provider_account}: {stale.report()}")
    say(f"7. account {d.target.provider_account} in {d.target.region}: no customer gateway, "
        "VPN connection, attachment, association or route of the demo is left")  # fmt: skip


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help="Data dir of a running `linkplane up` (or for one)."),
        ] = None,
        account: Annotated[
            str | None, typer.Option("--account", help="Customer account (default: random).")
        ] = None,
        vpn: Annotated[
            bool, typer.Option("--vpn", help="An IPsec VPN breakout (static) instead of a TGW one.")
        ] = False,
    ) -> None:
        """Play the Cloud Connect demo on the embedded cloud, narrating each step."""

        def run(target: Target) -> None:
            play_vpn(target) if vpn else play(target, account=account)

        chosen = data_dir or load_settings().data_dir
        target = _running(chosen)
        if target is not None:
            say(f"using linkplane up at {target.api_url} (embedded cloud {target.cloud_endpoint})")
            run(target)
            return
        where = data_dir or Path(tempfile.mkdtemp(prefix="linkplane-demo-"))
        say(f"no linkplane up runs for {chosen}; starting one in {where}")
        with started_up(where) as started:
            run(started)
