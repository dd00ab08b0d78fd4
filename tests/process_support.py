"""linkplane's production process kinds as real subprocesses, for the PostgreSQL proof tests.

A :class:`Cluster` is what docs/deploy.md describes, on this machine: the embedded cloud
(``linkplane cloud serve``) standing in for AWS, ``linkplane migrate``, the provider's
commands (``region bootstrap``, ``org create``) from the environment alone, N ``serve``
and M ``worker`` processes, all configured by ``LINKPLANE_*`` variables and sharing one
PostgreSQL database. Each process writes its output to a file under the cluster's
directory (kept for post-mortems). Importing this module starts nothing.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from tests.test_up import cli, free_port

REGION = "eu-central-1"
PROVIDER = "123456789012"
ROOT = Path(__file__).resolve().parent.parent


def wait_until(done: Callable[[], bool], what: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Cluster:
    """The processes and how to reach them (see the module docstring)."""

    base: Path
    database_url: str
    cloud_port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)
    serve_urls: list[str] = field(default_factory=list)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.cloud_port}"

    def env(self, **extra: object) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
        values: dict[str, object] = {
            "database_url": self.database_url, "data_dir": self.base / "data",
            "cloud": "embedded", "aws_endpoint_url": self.endpoint,
            "provider_account_id": PROVIDER, "jwt_secret": self.secret, "log_json": "true",
            "breakout_poll_initial_seconds": 0.2, "breakout_poll_max_seconds": 1,
            "breakout_watched_poll_max_seconds": 1,
            "breakout_watch_interval_seconds": 1, "breakout_sweep_interval_seconds": 5,
            "executor_heartbeat_seconds": 1, "executor_dead_after_seconds": 4,
            "workflow_queue_polling_seconds": 0.2, "aws_backoff_base_seconds": 0.05,
            **extra,
        }  # fmt: skip
        env.update({f"LINKPLANE_{k.upper()}": str(v) for k, v in values.items()})
        return env

    def run(self, *args: str, **extra: object) -> str:
        """A one-shot command; its stdout (it must succeed)."""
        done = subprocess.run(cli(*args), env=self.env(**extra), cwd=ROOT, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, f"linkplane {' '.join(args)}: {done.stderr}{done.stdout}"
        return done.stdout

    def start(self, name: str, *args: str, **extra: object) -> Proc:
        log = self.base / f"{name}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(cli(*args), env=self.env(**extra), cwd=ROOT,
                                    stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        self.procs[name] = Proc(name, proc, log)
        return self.procs[name]

    # --- the processes ----------------------------------------------------------------------
    def start_cloud(self) -> None:
        cloud = self.start("cloud", "cloud", "serve", "--port", str(self.cloud_port))
        wait_until(lambda: "listening on" in cloud.output() or not cloud.alive(),
                   "the embedded cloud", 60)  # fmt: skip
        assert cloud.alive(), cloud.output()

    def start_serve(self, name: str) -> str:
        port = free_port()
        serve = self.start(name, "serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(url) or not serve.alive(), name, 60)
        assert serve.alive(), serve.output()
        self.serve_urls.append(url)
        return url

    def start_worker(self, name: str) -> Proc:
        worker = self.start(name, "worker", dbos_executor_id=name)
        wait_until(lambda: "worker ready" in worker.output() or not worker.alive(), name, 60)
        assert worker.alive(), worker.output()
        return worker

    def kill(self, name: str) -> None:
        proc = self.procs[name].proc
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for p in reversed(list(self.procs.values())):
            if p.alive():
                p.proc.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()

    # --- reading the shared database ----------------------------------------------------------
    def pending_executors(self, like: str) -> dict[str, int]:
        """Executor id -> how many PENDING workflows whose id matches ``like`` (SQL LIKE)."""
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT executor_id, count(*) FROM dbos.workflow_status "
                    "WHERE status = 'PENDING' AND workflow_uuid LIKE :like "
                    "GROUP BY executor_id"), {"like": like}).all()  # fmt: skip
        finally:
            engine.dispose()
        return {str(e): int(n) for e, n in rows}

    def tgw_id(self) -> str:
        found = re.search(r"transit gateway:\s+(tgw-\w+)", self.run("region", "list"))
        assert found, "no region"
        return found.group(1)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class Api:
    """An authenticated client of one ``serve`` process."""

    def __init__(self, url: str, email: str, password: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        body = {"username": email, "password": password}
        token = self.http.post("/api/v1/authenticate", json=body).json()["auth_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def create(self, account: str, cidr: str) -> int:
        body = {"type": 1, "name": f"proof-{account}", "vpc_cidr": [cidr], "region": REGION,
                "aws_account_id": account}  # fmt: skip
        resp = self.http.post("/api/v1/cnc/breakout/tgw", json=body)
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])

    def get(self, bid: int) -> dict[str, Any]:
        resp = self.http.get(f"/api/v1/cnc/breakout/{bid}")
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()[0]
        return data

    def delete(self, bid: int) -> None:
        resp = self.http.delete(f"/api/v1/cnc/breakout/{bid}")
        assert resp.status_code == 200, resp.text
