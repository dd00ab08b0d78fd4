"""``linkplane up`` keeps its embedded cloud across ``kill -9`` (issue 13, item 7).

Before the snapshot the embedded cloud restarted empty: a waiting breakout then ended as
"the invitation was rejected by the customer" and an Active one as "the customer deleted its
attachment". Now the cloud's state is snapshotted into the data dir and loaded at start: an
Active breakout stays Active, a waiting one keeps waiting and completes when the customer
acts after the restart, and the audit finds nothing wrong.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from linkplane.localcloud.accounts import session_for
from linkplane.localcloud.ram_state import InvitationStatus, ledger_of
from linkplane.localcloud.snapshot import FILE_NAME
from tests.process_support import wait_until
from tests.test_up import cli, free_port

CREDS = {"username": "admin@demo.example", "password": "Snapshot-demo-pass-9"}
ACTIVE, WAITING = ("255555555555", "10.55.0.0/24"), ("266666666666", "10.66.0.0/24")


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    log: Path
    runtime: dict[str, Any]
    headers: dict[str, str]

    @property
    def api(self) -> str:
        return str(self.runtime["api_url"])

    def create(self, account: str, cidr: str) -> int:
        body = {"type": 1, "name": f"keep-{account}", "vpc_cidr": [cidr],
                "region": self.runtime["region"], "aws_account_id": account}  # fmt: skip
        resp = httpx.post(f"{self.api}/api/v1/cnc/breakout/tgw", json=body, headers=self.headers,
                          timeout=30)  # fmt: skip
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])

    def status(self, bid: int) -> int:
        resp = httpx.get(f"{self.api}/api/v1/cnc/breakout/{bid}", headers=self.headers, timeout=30)
        assert resp.status_code == 200, resp.text
        return int(resp.json()[0]["status"]["id"])

    def aws(self, account: str, service: str) -> Any:
        endpoint = self.runtime["cloud_endpoint"]
        session = session_for(account, region=self.runtime["region"], endpoint_url=endpoint)
        return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    env.update(LINKPLANE_DEMO_EMAIL=CREDS["username"], LINKPLANE_DEMO_PASSWORD=CREDS["password"],
               LINKPLANE_CLOUD_SNAPSHOT_SECONDS="0.5",
               LINKPLANE_BREAKOUT_POLL_INITIAL_SECONDS="0.1",
               LINKPLANE_BREAKOUT_POLL_MAX_SECONDS="0.5",
               LINKPLANE_BREAKOUT_WATCHED_POLL_MAX_SECONDS="0.5",
               LINKPLANE_BREAKOUT_WATCH_INTERVAL_SECONDS="0.5")  # fmt: skip
    return env


def start(data_dir: Path, name: str) -> Up:
    (data_dir / "runtime.json").unlink(missing_ok=True)  # a kill -9 leaves the old one
    log = data_dir.parent / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cli("up", "--data-dir", str(data_dir), "--port", str(free_port()),
                                    "--cloud-port", str(free_port())),
                                stdout=out, stderr=subprocess.STDOUT, env=_env())  # fmt: skip
    runtime = data_dir / "runtime.json"
    wait_until(lambda: runtime.exists() or proc.poll() is not None, "linkplane up", 120)
    assert proc.poll() is None, log.read_text()
    info = json.loads(runtime.read_text())
    token = httpx.post(f"{info['api_url']}/api/v1/authenticate", json=CREDS, timeout=30)
    return Up(proc, log, info, {"Authorization": f"Bearer {token.json()['auth_token']}"})


def customer_accepts(up: Up, account: str) -> None:
    ram = up.aws(account, "ram")

    def pending() -> list[dict[str, Any]]:
        found = ram.get_resource_share_invitations()["resourceShareInvitations"]
        return [i for i in found if i["status"] == "PENDING"]

    wait_until(lambda: bool(pending()), f"the invitation to {account}", 60)
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=pending()[0]["resourceShareInvitationArn"]
    )


def customer_attaches(up: Up, account: str, cidr: str) -> None:
    ec2 = up.aws(account, "ec2")
    tgw = ec2.describe_transit_gateways()["TransitGateways"][0]["TransitGatewayId"]
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])


def snapshot_shows_accepted(data_dir: Path, account: str) -> bool:
    """Whether the snapshot on disk has ``account``'s invitation accepted: it is then a cut
    after everything done before that acceptance (snapshots hold requests back)."""
    try:
        with gzip.open(data_dir / FILE_NAME, "rb") as src:
            snap = pickle.loads(src.read())  # written by the up under test
    except (OSError, EOFError, pickle.UnpicklingError):
        return False  # not written yet
    return any(inv.receiver == account and inv.status is InvitationStatus.ACCEPTED
               for _a, _r, backend in snap["state"]["ram"]
               for inv in ledger_of(backend).invitations.values())  # fmt: skip


def test_breakouts_survive_kill_9_of_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start(data_dir, "first")
    try:
        active = first.create(*ACTIVE)
        customer_accepts(first, ACTIVE[0])
        customer_attaches(first, *ACTIVE)
        wait_until(lambda: first.status(active) == 5, "the first breakout Active", 90)
        waiting = first.create(*WAITING)
        customer_accepts(first, WAITING[0])  # accepted; its attachment comes after the restart
        wait_until(lambda: snapshot_shows_accepted(data_dir, WAITING[0]), "the snapshot", 60)
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=30)
    assert (data_dir / FILE_NAME).stat().st_mode & 0o777 == 0o600

    second = start(data_dir, "second")
    try:
        assert "embedded cloud: restored from" in second.log.read_text()
        customer_attaches(second, *WAITING)
        wait_until(lambda: second.status(waiting) == 5, "the waiting breakout Active", 90)
        assert second.status(active) == 5
        env = {**_env(), "LINKPLANE_EMAIL": CREDS["username"]}
        audit = subprocess.run(cli("audit", "--data-dir", str(data_dir)), env=env,
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert "OK: the cloud matches" in audit.stdout
    finally:
        second.proc.send_signal(signal.SIGTERM)
        second.proc.wait(timeout=60)
    assert second.proc.returncode == 0, second.log.read_text()
