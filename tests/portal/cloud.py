"""``linkplane up`` as a subprocess for browser tests: the embedded cloud, a bootstrapped
region, the breakout workers and the API + portal on one port, exactly as users start it.

A separate process because DBOS and the embedded cloud are process-global: other test modules
keep their own stacks in the test process. The customer's side is played with plain boto3
against the subprocess's embedded cloud.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkplane.localcloud.accounts import session_for

REGION = "eu-central-1"
ADMIN = "admin@portal-demo.example.com"
ADMIN_PASSWORD = "portal demo password"
#: Workflow knobs turned down so a breakout becomes Active in seconds, not minutes.
FAST = {
    "LINKPLANE_BREAKOUT_POLL_INITIAL_SECONDS": "0.1",
    "LINKPLANE_BREAKOUT_POLL_MAX_SECONDS": "0.5",
    "LINKPLANE_BREAKOUT_WATCHED_POLL_MAX_SECONDS": "0.5",
    "LINKPLANE_BREAKOUT_STEP_RETRY_SECONDS": "0.05",
    "LINKPLANE_BREAKOUT_STEP_MAX_ATTEMPTS": "3",
    "LINKPLANE_AWS_MAX_ATTEMPTS": "2",
    "LINKPLANE_AWS_BACKOFF_BASE_SECONDS": "0.01",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class UpPortal:
    url: str
    endpoint_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    def customer(self, account: str, service: str) -> Any:
        session = session_for(account, region=REGION, endpoint_url=self.endpoint_url)
        return session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def accept_invitation(self, account: str, share_arn: str) -> None:
        """What the page tells the customer: find the invitation of the share, accept it."""
        ram = self.customer(account, "ram")
        found = ram.get_resource_share_invitations(resourceShareArns=[share_arn])
        invitation = found["resourceShareInvitations"][0]["resourceShareInvitationArn"]
        ram.accept_resource_share_invitation(resourceShareInvitationArn=invitation)

    def attach_vpc(self, account: str, tgw_id: str, cidr: str) -> str:
        ec2 = self.customer(account, "ec2")
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw_id, VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        return str(attachment)


def _log_tail(data_dir: Path) -> str:
    log = data_dir.parent / "up.log"
    return log.read_text()[-3000:] if log.exists() else ""


def start_up(data_dir: Path, **settings: str) -> UpPortal:
    """Start ``linkplane up`` and wait until its portal answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    env.update(FAST, LINKPLANE_DEMO_EMAIL=ADMIN, LINKPLANE_DEMO_PASSWORD=ADMIN_PASSWORD)
    env.update({f"LINKPLANE_{k.upper()}": v for k, v in settings.items()})
    port, cloud_port = _free_port(), _free_port()
    code = "import sys; from linkplane.cli import main; sys.argv[0] = 'linkplane'; main()"
    args = ["up", "--data-dir", str(data_dir), "--port", str(port), "--cloud-port", str(cloud_port)]
    with (data_dir.parent / "up.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=log,
                                stderr=subprocess.STDOUT, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not (data_dir / "runtime.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_up(proc)
            raise RuntimeError(f"linkplane up did not start:\n{_log_tail(data_dir)}")
        time.sleep(0.2)
    runtime = json.loads((data_dir / "runtime.json").read_text())
    assert httpx.get(f"{url}/login", timeout=10).status_code == 200
    return UpPortal(url, str(runtime["cloud_endpoint"]), data_dir, proc)


def stop_up(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def up_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpPortal]:
    """``linkplane up`` with AWS's 7-day invitations, shared by a module's tests."""
    portal = start_up(tmp_path_factory.mktemp("up") / "data")
    yield portal
    stop_up(portal.process)


@pytest.fixture
def up_portal_short_invitations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpPortal]:
    """``linkplane up`` whose invitations expire after 3 seconds (to see expiry and retry)."""
    portal = start_up(tmp_path_factory.mktemp("up-short") / "data", invitation_ttl_seconds="3")
    yield portal
    stop_up(portal.process)
