"""deploy/systemd's units run: each ExecStart line is started as systemd would start it (the
binary path replaced by this checkout's, listen addresses by 127.0.0.1 and free ports), on
PostgreSQL against the embedded cloud, checked to answer, and stopped with the unit's
KillSignal within its TimeoutStopSec. systemd itself does not run here."""

from __future__ import annotations

import configparser
import shlex
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from linkplane.settings import Settings
from tests.process_support import Cluster, Proc, wait_until
from tests.test_up import free_port

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/linkplane/bin/linkplane"
NAMES = ("linkplane-migrate.service", "linkplane-serve.service", "linkplane-worker@.service")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


def command(name: str, instance: str = "1") -> tuple[list[str], dict[str, int]]:
    """The unit's ExecStart as linkplane arguments, with free ports; and those ports."""
    args = shlex.split(unit(name)["Service"]["ExecStart"].replace("%i", instance))
    assert args[0] == INSTALLED, f"{name}: ExecStart must run {INSTALLED}"
    args, ports = args[1:], {}
    for i, arg in enumerate(args):
        if arg in ("--port", "--metrics-port"):
            ports[arg] = free_port()
            args[i + 1] = str(ports[arg])
        if arg in ("--host", "--metrics-host"):
            args[i + 1] = "127.0.0.1"  # tests listen on loopback only
    return args, ports


def stop(name: str, proc: Proc) -> None:
    """Stop as systemd does; exiting 0 or by the signal itself are clean stops to systemd
    (``SuccessExitStatus``: 0, SIGHUP, SIGINT, SIGTERM, SIGPIPE by default). uvicorn
    re-raises the signal after its graceful shutdown."""
    service = unit(name)["Service"]
    kill = getattr(signal, service["KillSignal"])
    proc.proc.send_signal(kill)
    proc.proc.wait(timeout=float(service["TimeoutStopSec"]))
    assert proc.proc.returncode in (0, -kill), proc.output()


def answers(port: int, path: str) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path, postgres_url)
    try:
        c.start_cloud()
        yield c
    finally:
        c.stop_all()


@pytest.mark.postgres
def test_the_units_commands_run(cluster: Cluster) -> None:
    migrate, _ = command("linkplane-migrate.service")
    cluster.run(*migrate)
    cluster.run(*migrate)  # a oneshot run at every deploy: idempotent
    for name, path in (("linkplane-serve.service", "--port"),
                       ("linkplane-worker@.service", "--metrics-port")):  # fmt: skip
        args, ports = command(name, instance="3")
        proc = cluster.start(name, *args, dbos_executor_id=f"unit-{name}")
        port = ports[path]
        wait_until(lambda p=port, pr=proc: answers(p, "/ready") or not pr.alive(), name, 90)
        assert proc.alive(), proc.output()
        assert answers(port, "/health")
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "linkplane_breakouts" in metrics and "linkplane_aws_calls" in metrics
        stop(name, proc)


def test_worker_instances_get_their_own_metrics_port() -> None:
    args = shlex.split(unit("linkplane-worker@.service")["Service"]["ExecStart"])
    port = args[args.index("--metrics-port") + 1]
    assert {port.replace("%i", str(i)) for i in range(1, 10)} == {f"910{i}" for i in range(1, 10)}


@pytest.mark.parametrize("name", NAMES)
def test_units_read_the_shared_environment_file(name: str) -> None:
    parsed = unit(name)
    assert {"Unit", "Service", "Install"} <= set(parsed.sections())
    service = parsed["Service"]
    assert service["EnvironmentFile"] == "/etc/linkplane/linkplane.env"
    assert service["User"] == "linkplane"


def test_example_environment_names_only_real_settings() -> None:
    names = [line.split("=", 1)[0] for line in (UNITS / "linkplane.env.example").read_text()
             .splitlines() if line and not line.startswith("#")]  # fmt: skip
    fields = {f"LINKPLANE_{f.upper()}" for f in Settings.model_fields}
    assert names and set(names) <= fields, set(names) - fields
