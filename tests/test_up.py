"""``linkplane up`` as a subprocess: ready, bootstrapped, clean exit, restart re-bootstraps."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx

from linkplane.localcloud.accounts import session_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> list[str]:
    code = "import sys; from linkplane.cli import main; sys.argv[0] = 'linkplane'; main()"
    return [sys.executable, "-c", code, *args]


def start_up(data_dir: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LINKPLANE_", "AWS_", "MOTO_"))}  # fmt: skip
    proc = subprocess.Popen(
        cli("up", "--data-dir", str(data_dir), "--port", str(free_port()),
            "--cloud-port", str(free_port())),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    runtime = data_dir / "runtime.json"
    deadline = time.monotonic() + 90
    while not runtime.exists():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "linkplane up did not become ready"
        time.sleep(0.2)
    return proc, json.loads(runtime.read_text())


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def region_list(data_dir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        cli("region", "list", "--json", "--data-dir", str(data_dir)),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def stored_tgw(data_dir: Path) -> str:
    from linkplane.context import open_context
    from linkplane.db import transaction
    from linkplane.regions import service
    from linkplane.settings import Settings

    ctx = open_context(Settings(data_dir=data_dir))
    try:
        with transaction(ctx.sessionmaker) as session:
            return service.get_region(session=session, name="eu-central-1").tgw_id
    finally:
        ctx.close()


def provider_tgws(endpoint: str) -> list[str]:
    session: boto3.Session = session_for(
        "123456789012", region="eu-central-1", endpoint_url=endpoint
    )
    ec2 = session.client("ec2", endpoint_url=endpoint)
    return [t["TransitGatewayId"] for t in ec2.describe_transit_gateways()["TransitGateways"]]


def no_images(endpoint: str) -> bool:
    session: boto3.Session = session_for(
        "444400000003", region="eu-central-1", endpoint_url=endpoint
    )
    return not session.client("ec2", endpoint_url=endpoint).describe_images()["Images"]


def test_up_runs_bootstraps_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc, runtime = start_up(data)
    try:
        assert runtime["pid"] == proc.pid
        health = httpx.get(f"{runtime['api_url']}/api/v1/health", timeout=10)
        assert health.json()["status"] == "ok"
        tgws = provider_tgws(runtime["cloud_endpoint"])
        regions = region_list(data)
        assert [(r["name"], r["tgw_id"]) for r in regions] == [("eu-central-1", tgws[0])]
        assert len(tgws) == 1
        assert no_images(runtime["cloud_endpoint"])  # moto's AMI catalogue: 4 MiB per account
        again = subprocess.run(
            cli("region", "bootstrap", "--region", "eu-central-1", "--data-dir", str(data)),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.stdout.strip() == "region eu-central-1 is up to date (no changes)"
    finally:
        out = stop(proc)
    assert "linkplane is up" in out and runtime["api_url"] in out
    assert not (data / "runtime.json").exists()

    # The embedded cloud was snapshotted at the stop: a restart finds the same TGW.
    proc, runtime = start_up(data)
    try:
        assert provider_tgws(runtime["cloud_endpoint"]) == [regions[0]["tgw_id"]]
    finally:
        out = stop(proc)
    assert "embedded cloud: restored from" in out and "up to date" in out

    # A snapshot that cannot be used: the cloud starts empty, up says so plainly, finds the
    # stored TGW gone and bootstraps the region again.
    (data / "cloud-snapshot.pickle.gz").write_bytes(b"damaged")
    proc, runtime = start_up(data)
    try:
        tgws = provider_tgws(runtime["cloud_endpoint"])
        assert len(tgws) == 1 and tgws[0] != regions[0]["tgw_id"]
        assert stored_tgw(data) == tgws[0]
    finally:
        out = stop(proc)
    assert "embedded cloud: RESET, started empty: the snapshot could not be read" in out
    assert f"stored transit gateway {regions[0]['tgw_id']} no longer exists" in out
