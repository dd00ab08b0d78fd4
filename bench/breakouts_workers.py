"""``bench_breakouts.py --workers 1 2 3 --postgres URL``: the production topology's throughput
against the number of worker processes, throttled and not, in one run.

Each (workers, mode) measurement is a fresh PostgreSQL database, a fresh embedded cloud
process (``--throttling``: EC2's documented buckets enforced, also on RAM), ``linkplane
migrate``, and W ``linkplane worker`` processes configured by ``LINKPLANE_*`` variables as
in production (docs/deploy.md). This process plays ``serve``: it writes each breakout and
enqueues its workflow (a DBOS queue start, no workflow code here), while the customers,
automated with boto3, accept and attach as soon as their invitation exists.

Printed per row: wall time from the first create to the last Active, breakouts/s, the
workers' CPU seconds per breakout (their /proc counters over the run), user-visible errors
(breakouts not Active, error events), and the AWS requests the embedded cloud refused for
rate (``linkplane_aws_calls_total{outcome="throttled"}`` scraped from every worker's
``--metrics-port``; the adapter retried each). Throttled rows compare the wall time with the
floor EC2's mutating bucket allows (burst 50, then 5/s), which every worker shares: on
PostgreSQL the workers draw from one budget (linkplane.cloud.budget).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

WORKER_ENV = {
    "breakout_poll_initial_seconds": 0.5, "breakout_watch_interval_seconds": 1.0,
    "workflow_queue_polling_seconds": 0.2, "executor_heartbeat_seconds": 2,
}  # fmt: skip


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    port: int

    def cpu(self) -> float:
        """User + system CPU seconds of the process so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def throttled(self) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("linkplane_aws_calls_total{")
                   and 'outcome="throttled"' in line)  # fmt: skip


def environment(database_url: str, endpoint: str, data_dir: Path) -> dict[str, str]:
    from bench_breakouts import PROVIDER

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    values: dict[str, object] = {
        "database_url": database_url, "cloud": "embedded", "aws_endpoint_url": endpoint,
        "provider_account_id": PROVIDER, "data_dir": data_dir,
        "jwt_secret": secrets.token_urlsafe(48), **WORKER_ENV,
    }  # fmt: skip
    env.update({f"LINKPLANE_{k.upper()}": str(v) for k, v in values.items()})
    return env


def _linkplane(*args: str) -> list[str]:
    return [sys.executable, "-m", "linkplane", *args]


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[Worker]:
    from bench_breakouts import _free_port

    workers = []
    for k in range(count):
        port = _free_port()
        out = (logs / f"worker-{k}.log").open("wb")
        proc = subprocess.Popen(_linkplane("worker", "--metrics-port", str(port)),
                                env={**env, "LINKPLANE_DBOS_EXECUTOR_ID": f"bench-{k}"},
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        workers.append(Worker(proc, port))
    for w in workers:
        _wait_ready(w)
    return workers


def _wait_ready(worker: Worker) -> None:
    for _ in range(600):
        if worker.proc.poll() is not None:
            raise SystemExit(f"a worker exited with {worker.proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{worker.port}/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("a worker did not become ready")


def child(workers: int, throttled: bool, n: int, timeout: float, postgres: str) -> dict[str, Any]:
    """One measurement: cloud, database, migrate, W workers; this process creates."""
    import bench_breakouts as bb

    cloud, endpoint = bb.start_cloud(throttled=throttled)
    database_url, drop = bb.fresh_postgres(postgres)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    env = environment(database_url, endpoint, data_dir)
    # Unthrottled rows measure the engine: the client-side budget is lifted as for an
    # account whose limits AWS raised a thousandfold; throttled rows keep EC2's buckets.
    env["LINKPLANE_AWS_RATE_SCALE"] = "1" if throttled else "1000"
    os.environ.update(env)
    running: list[Worker] = []
    bench = None
    try:
        subprocess.run(_linkplane("migrate"), env=env, check=True, capture_output=True)
        bench = bb.setup(data_dir, endpoint, database_url, launch=False)
        running = start_workers(workers, env, data_dir)
        cpu0 = sum(w.cpu() for w in running)
        wall, _cpu, errors = bb.run_linkplane(bench, n, timeout)
        cpu = sum(w.cpu() for w in running) - cpu0
        failed = bb.workflow_errors(bench, bench.last_ids or [])
        return {"workers": workers, "throttled": throttled, "n": n, "wall": wall, "cpu": cpu,
                "errors": errors, "workflow_errors": failed,
                "aws_throttled": sum(w.throttled() for w in running)}  # fmt: skip
    finally:
        if bench is not None:
            bench.client.close()
        for w in running:
            w.proc.terminate()
        for w in running:
            try:
                w.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.proc.kill()
        bb._stop(cloud)
        drop()


def measure(workers: int, throttled: bool, n: int, timeout: float, postgres: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).with_name("bench_breakouts.py")), "--child-workers",
           str(workers), "--n", str(n), "--timeout", str(timeout), "--postgres", postgres]
    if throttled:
        cmd.append("--child-throttled")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT "):])
            return result
    raise SystemExit(f"workers={workers} throttled={throttled} failed:\n{done.stderr[-3000:]}")


def report(workers: list[int], n: int, timeout: float, postgres: str) -> None:
    from bench_breakouts import lower_bound

    print(f"\nworkers (PostgreSQL; N = {n}; this process creates, W worker processes run)")
    print("| workers | mode | wall s | breakouts/s | worker CPU s per breakout | floor s "
          "| wall / floor | AWS throttled | user errors | workflow errors |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for throttled in (False, True):
        for w in workers:
            r = measure(w, throttled, n, timeout, postgres)
            floor = lower_bound(n) if throttled else 0.0
            ratio = f"{r['wall'] / floor:.2f}" if floor else ""
            print(f"| {w} | {'throttled' if throttled else 'plain'} | {r['wall']:.1f} | "
                  f"{n / r['wall']:.2f} | {r['cpu'] / n:.3f} | {floor or '':} | {ratio} | "
                  f"{r['aws_throttled']:.0f} | {r['errors']} | {r['workflow_errors']} |",
                  flush=True)  # fmt: skip
