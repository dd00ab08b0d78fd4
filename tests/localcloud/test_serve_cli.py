"""``linkplane cloud serve`` as a subprocess, called with boto3 (and the AWS CLI if installed)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from linkplane.localcloud.accounts import session_for
from tests.localcloud.conftest import CUSTOMER, PROVIDER, REGION

CLI = [sys.executable, "-c", "from linkplane.cli import main; main()", "cloud", "serve"]
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def wait_for_banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if "Ctrl-C" in line:
            return lines
    proc.kill()
    raise AssertionError(f"server did not start: {lines}")


@pytest.fixture
def served() -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    port = free_port()
    args = ["--port", str(port), "--invitation-ttl", "1"]
    args += ["--throttling", "--read-bucket", "3", "--read-refill", "0.01"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("MOTO_EC2_LOAD_DEFAULT_AMIS", None)  # the command must set it itself
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, text=True, env=env)
    banner = wait_for_banner(proc)
    yield f"http://127.0.0.1:{port}", proc, banner
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def client(endpoint: str, service: str, account: str) -> Any:
    session: Any = session_for(account, region=REGION, endpoint_url=endpoint)
    return session.client(service, endpoint_url=endpoint, config=NO_RETRIES)


def test_serves_boto3_with_the_given_knobs(
    served: tuple[str, subprocess.Popen[str], list[str]],
) -> None:
    endpoint, _, banner = served
    assert f"embedded cloud listening on {endpoint}" in banner
    assert f"  export AWS_ENDPOINT_URL={endpoint}" in banner
    tgw = f"arn:aws:ec2:{REGION}:{PROVIDER}:transit-gateway/tgw-0123456789abcdef0"
    client(endpoint, "ram", PROVIDER).create_resource_share(
        name="s", resourceArns=[tgw], principals=[CUSTOMER]
    )
    ram = client(endpoint, "ram", CUSTOMER)
    (invitation,) = ram.get_resource_share_invitations()["resourceShareInvitations"]
    assert invitation["status"] == "PENDING"
    time.sleep(1.1)  # --invitation-ttl 1
    (invitation,) = ram.get_resource_share_invitations()["resourceShareInvitations"]
    assert invitation["status"] == "EXPIRED"
    ec2 = client(endpoint, "ec2", PROVIDER)
    for _ in range(3):
        ec2.describe_vpcs()
    with pytest.raises(ClientError) as exc:  # --throttling with a bucket of 3 reads
        ec2.describe_vpcs()
    assert exc.value.response["Error"]["Code"] == "RequestLimitExceeded"


def test_new_accounts_get_no_default_amis(
    served: tuple[str, subprocess.Popen[str], list[str]],
) -> None:
    """moto's AMI catalogue cost ~4 MiB per account; ``cloud serve`` turns it off."""
    endpoint, _, _ = served
    assert client(endpoint, "ec2", "444400000002").describe_images()["Images"] == []


def test_stops_cleanly_on_sigterm(served: tuple[str, subprocess.Popen[str], list[str]]) -> None:
    _, proc, _ = served
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "embedded cloud stopped" in out


def test_aws_cli_works_against_it(served: tuple[str, subprocess.Popen[str], list[str]]) -> None:
    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")
    endpoint, _, _ = served
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    done = subprocess.run(
        [aws, "sts", "get-caller-identity"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert '"Account"' in done.stdout


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("--port", str(port))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0
    assert "port" in done.stderr and "in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("host", ["no-such-host.invalid"])
def test_bad_host_is_a_one_line_error(host: str) -> None:
    done = run_cli("--host", host, "--port", "0")
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "host" in done.stderr
    assert "Traceback" not in done.stderr
