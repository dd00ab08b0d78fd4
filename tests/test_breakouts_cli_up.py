"""One ``linkplane up`` subprocess, used the way an operator would: the demo organisation's
credentials, ``org create`` while it runs, ``breakout create --wait`` and ``linkplane demo``
from other processes given the same ``--data-dir``, the customer acting with plain boto3."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkplane.localcloud.accounts import session_for
from tests.test_up import cli, free_port

EMAIL, PASSWORD = "ops@demo.example.com", "demo-password-e2e-1"


@dataclass
class Up:
    data_dir: Path
    runtime: dict[str, Any]
    log: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli(*args), capture_output=True, text=True, timeout=timeout, env={**self.env, **env}
        )

    def token(self, email: str, password: str) -> str:
        r = httpx.post(f"{self.runtime['api_url']}/api/v1/authenticate",
                       json={"username": email, "password": password}, timeout=10)  # fmt: skip
        assert r.status_code == 200, r.text
        token: str = r.json()["auth_token"]
        return token

    def aws(self, account: str, service: str) -> Any:
        endpoint = self.runtime["cloud_endpoint"]
        s = session_for(account, region="eu-central-1", endpoint_url=endpoint)
        return s.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    return env


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    data = tmp_path_factory.mktemp("up")
    log = data / "up.log"
    env = {**_env(), "LINKPLANE_DEMO_EMAIL": EMAIL, "LINKPLANE_DEMO_PASSWORD": PASSWORD,
           "LINKPLANE_BREAKOUT_POLL_INITIAL_SECONDS": "0.1",
           "LINKPLANE_BREAKOUT_POLL_MAX_SECONDS": "0.5",
           "LINKPLANE_BREAKOUT_WATCHED_POLL_MAX_SECONDS": "0.5"}  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            cli("up", "--data-dir", str(data), "--port", str(free_port()),
                "--cloud-port", str(free_port())),
            stdout=out, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (data / "runtime.json").exists():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "linkplane up did not become ready"
        time.sleep(0.2)
    runtime = json.loads((data / "runtime.json").read_text())
    creds = {"LINKPLANE_EMAIL": EMAIL, "LINKPLANE_PASSWORD": PASSWORD}
    yield Up(data, runtime, log, {**_env(), **creds})
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()


def test_up_seeds_demo_org_usable_as_emnify_clients_do(up: Up) -> None:
    token = up.token(EMAIL, PASSWORD)
    me = httpx.get(f"{up.runtime['api_url']}/api/v1/organisation/my",
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert me.json()["name"] == "demo"
    banner = up.log.read_text()
    assert f"demo organisation: admin {EMAIL}" in banner
    assert PASSWORD not in banner  # chosen by the operator: not echoed
    assert up.runtime["region"] == "eu-central-1" and up.runtime["provider_account_id"]


def test_org_create_while_up_runs(up: Up) -> None:
    done = up.run("org", "create", "acme", "--admin-email", "admin@acme.example.com",
                  "--admin-password", "acme-password-123",
                  "--data-dir", str(up.data_dir))  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = up.token("admin@acme.example.com", "acme-password-123")
    me = httpx.get(f"{up.runtime['api_url']}/api/v1/organisation/my",
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert me.json()["name"] == "acme"


def _customer_acts(up: Up, account: str, cidr: str) -> None:
    ram = up.aws(account, "ram")
    deadline = time.monotonic() + 60
    while not (pending := [i for i in ram.get_resource_share_invitations()[
            "resourceShareInvitations"] if i["status"] == "PENDING"]):  # fmt: skip
        assert time.monotonic() < deadline, "no invitation"
        time.sleep(0.2)
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=pending[0]["resourceShareInvitationArn"]
    )
    ec2 = up.aws(account, "ec2")
    tgw = ec2.describe_transit_gateways()["TransitGateways"][0]["TransitGatewayId"]
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subnet])


def test_breakout_create_wait_in_another_process(up: Up) -> None:
    account, cidr = "244444444444", "10.44.0.0/24"
    proc = subprocess.Popen(
        cli("breakout", "create", "--name", "ops", "--account", account, "--cidr", cidr,
            "--wait", "--timeout", "90", "--data-dir", str(up.data_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=up.env,
    )  # fmt: skip
    _customer_acts(up, account, cidr)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert "5 Active" in out and "\r" not in out  # not a TTY: plain lines only
    listed = up.run("breakout", "list", "--data-dir", str(up.data_dir))
    assert f"5 Active\tops\teu-central-1\t{account}\t{cidr}" in listed.stdout


def test_cli_error_is_one_line_naming_the_field(up: Up) -> None:
    done = up.run("breakout", "create", "--name", "x", "--account", "123", "--cidr",
                  "10.45.0.0/24", "--data-dir", str(up.data_dir))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("error (aws_account_id): ") and done.stderr.count("\n") == 1


def test_demo_against_the_running_up(up: Up) -> None:
    done = up.run("demo", "--data-dir", str(up.data_dir), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"using linkplane up at {up.runtime['api_url']}" in out
    for step in (
        "1. provider: requested breakout",
        "3. customer",
        "4. customer",
        "is Active",
        "core table",
        "customers table",
        "7. ",
        "8. inventory",
    ):
        assert step in out, out  # fmt: skip
    assert "no share, attachment, association or route is left" in out


def test_demo_vpn_against_the_running_up(up: Up) -> None:
    done = up.run("demo", "--vpn", "--data-dir", str(up.data_dir), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    steps = [line[:2] for line in out.splitlines() if line[:2] in {f"{n}." for n in range(1, 8)}]
    assert steps == [f"{n}." for n in range(1, 8)], out
    assert "(POST /api/v1/cnc/breakout/vpn)" in out and "is Active: customer gateway cgw-" in out
    tunnels = re.findall(r"^\s+(\d+\.\d+\.\d+\.\d+) inside (169\.254\.\d+\.\d+/30): ", out, re.M)
    assert len(tunnels) == 2, out
    for outside, inside in tunnels:  # the configuration shown names both tunnels
        assert f"AWS outside address: {outside}" in out and f"Inside CIDR: {inside}" in out
    assert "Pre-shared key: ******** " in out and "core table" in out
    assert not re.search(r"Pre-shared key: [A-Za-z1-9._]", out)  # never the key itself
    assert "no customer gateway, VPN connection, attachment, association or route" in out
