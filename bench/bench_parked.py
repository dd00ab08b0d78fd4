"""Benchmark: N breakouts parked waiting for their customers (issue 15).

    .venv/bin/python bench/bench_parked.py                      # N = 10 and 1,000, SQLite
    .venv/bin/python bench/bench_parked.py --n 10 1000 10000 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each N runs in a fresh child process: its own embedded cloud (``linkplane cloud serve`` in a
separate process, as in bench_breakouts.py), fresh databases (SQLite files, or a fresh
PostgreSQL database next to ``--postgres``) and the real engine as a worker runs it (DBOS,
the boto3 adapter with its client-side limiter, the shared watch, the periodic sweep), with
the product's poll and watch intervals unless ``--watch`` says otherwise.

N breakouts are created (50 per transaction) whose customers never act: each workflow makes
its share, polls the invitation once and parks in its wait. Once all N have polled, the
child measures:
- threads of the engine's process (``/proc/self/task``) and its RSS;
- CPU seconds per wall second over an idle period (``--idle``, 60 s) of the engine's process
  and of the cloud's, with the provider AWS calls and the DBOS steps recorded meanwhile;
- then ``--act`` customers (spread over the N) accept their invitation at once: the time
  until each breakout leaves the wait for acceptance (status 1 -> 2: noticed), then they
  attach: the time until each is Active;
- then ``--creates`` further creates, one transaction each as the API makes them
  (``service.create_tgw`` + ``start_provisioning``): latency p50/p99 while N are parked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bench_breakouts as bb
import sqlalchemy as sa

#: Breakouts created per transaction while filling (the measured creates are one each).
FILL_BATCH = 50


def cidr(k: int) -> str:
    """The k-th customer /24 in 10.0.0.0/8, below the core VPC's 10.255.0.0/16."""
    return f"10.{k // 256}.{k % 256}.0/24"


def account(k: int) -> str:
    return str(500000000000 + k)



def _status_value(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


class SystemDb:
    """Read-only views of DBOS's system database: parked workflows and recorded steps."""

    def __init__(self, bench: bb.Bench) -> None:
        from linkplane.durable.config import system_database_url

        url = system_database_url(bench.settings)
        self.table = "dbos.operation_outputs" if url.startswith("postgresql") else (
            "operation_outputs")  # fmt: skip
        self.engine = sa.create_engine(url)

    def parked(self) -> int:
        """Provisioning workflows that polled their invitation at least once (so wait)."""
        query = (f"SELECT count(DISTINCT workflow_uuid) FROM {self.table} "
                 "WHERE function_name = 'invitation_status'")  # fmt: skip
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar_one())

    def steps(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {self.table}")).scalar_one())

    def output_bytes(self) -> int:
        """Characters of all recorded step outputs (what the system database keeps)."""
        query = f"SELECT coalesce(sum(length(output)), 0) FROM {self.table}"
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar_one())


def _create(bench: bb.Bench, first: int, n: int, batch: int) -> tuple[list[int], list[float]]:
    """``n`` breakouts numbered from ``first``, ``batch`` per transaction; their ids and the
    seconds each transaction plus its starts took."""
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutTgwCreate
    from linkplane.attachments.workflows.messages import start_provisioning
    from linkplane.db import transaction
    from linkplane.tenancy.principal import Principal, Role

    principal = Principal(user_id=1, org_id=bench.org_id, role=Role.ADMIN)
    ids: list[int] = []
    times: list[float] = []
    for start in range(first, first + n, batch):
        began = time.perf_counter()
        new = []
        with transaction(bench.factory) as session:
            for k in range(start, min(start + batch, first + n)):
                data = BreakoutTgwCreate(name=f"parked-{k}", vpc_cidr=[cidr(k)],
                                         region=bb.REGION, aws_account_id=account(k))  # fmt: skip
                row = service.create_tgw(session=session, settings=bench.settings,
                                         principal=principal, data=data)  # fmt: skip
                new.append(int(row.id))
        for bid in new:
            start_provisioning(bench.client, bid, 1)
        times.append(time.perf_counter() - began)
        ids += new
    return ids, times


def _park(bench: bb.Bench, system: SystemDb, n: int, timeout: float) -> tuple[list[int], float]:
    """Create n breakouts and wait until all are parked; their ids and the seconds it took."""
    began = time.perf_counter()
    ids, _ = _create(bench, 0, n, FILL_BATCH)
    print(f"N={n}: created in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    while (parked := system.parked()) < n:
        took = time.perf_counter() - began
        if took > timeout:
            raise SystemExit(f"only {parked} of {n} parked after {timeout:.0f} s")
        if int(took) % 30 == 0:
            print(f"N={n}: {parked} parked after {took:.0f} s", file=sys.stderr, flush=True)
        time.sleep(1.0)  # polling the database for progress, not dodging a race
    return ids, time.perf_counter() - began


def _idle(cloud_pid: int, system: SystemDb, seconds: float) -> dict[str, float]:
    """CPU per wall second of this process and the cloud's, AWS calls/s and steps/s."""
    assert bb.CALLS is not None
    bb.CALLS.take()
    bytes0 = system.output_bytes()
    steps0, cloud0 = system.steps(), bb._proc_cpu(cloud_pid)
    cpu0, t0 = bb._cpu(), time.perf_counter()
    time.sleep(seconds)  # the measurement itself: nothing happens but the engine's own work
    wall = time.perf_counter() - t0
    return {"engine_cpu": (bb._cpu() - cpu0) / wall,
            "cloud_cpu": (bb._proc_cpu(cloud_pid) - cloud0) / wall,
            "calls": bb.CALLS.take() / wall,
            "steps": (system.steps() - steps0) / wall,
            "output_bytes": (system.output_bytes() - bytes0) / wall}  # fmt: skip


def _wait_for(bench: bb.Bench, ids: list[int], done: Any, since: dict[int, float],
              timeout: float) -> dict[int, float]:  # fmt: skip
    """Seconds from ``since[id]`` until ``done(status)`` holds for each id (looked at every
    0.1 s: the figures' resolution); ids still not done at the timeout are left out."""
    seen: dict[int, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(ids) and time.perf_counter() < deadline:
        now = time.perf_counter()
        for bid, (status, _) in bb._statuses(bench, ids).items():
            if bid not in seen and bid in since and done(status):
                seen[bid] = now - since[bid]
        time.sleep(0.1)
    return seen


def _act(bench: bb.Bench, parked: list[int], k: int, timeout: float) -> dict[str, Any]:
    """k customers spread over the parked breakouts accept, then attach: when noticed."""
    n = len(parked)
    picks = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)}) if n else []
    ids = [parked[p] for p in picks]  # breakout p was created for account(p) and cidr(p)
    known = bb._statuses(bench, ids)
    assert all(known[b][0] == 1 for b in ids), known  # all still wait for acceptance
    pairs = zip(ids, picks, strict=True)
    customers = {b: bb.Customer(bench, account(p), cidr(p)) for b, p in pairs}
    accepted: dict[int, float] = {}
    lock = threading.Lock()

    def accept(bid: int) -> None:
        while not customers[bid].accept():
            time.sleep(0.2)
        with lock:
            accepted[bid] = time.perf_counter()

    with ThreadPoolExecutor(max_workers=len(ids) or 1) as pool:
        list(pool.map(accept, ids))
    noticed = _wait_for(bench, ids, lambda s: s >= 2, accepted, timeout)
    attached: dict[int, float] = {}

    def attach(bid: int) -> None:
        customers[bid].attach()
        with lock:
            attached[bid] = time.perf_counter()

    with ThreadPoolExecutor(max_workers=len(ids) or 1) as pool:
        list(pool.map(attach, [b for b in ids if b in noticed]))
    active = _wait_for(bench, ids, lambda s: s == 5, attached, timeout)
    return {"acted": len(ids), "noticed": sorted(noticed.values()),
            "active": sorted(active.values())}  # fmt: skip


def child(n: int, args: argparse.Namespace) -> dict[str, Any]:
    bb.CALLS = bb.CallCounter()
    cloud, endpoint = bb.start_cloud(throttled=False)
    database_url, drop = bb.fresh_postgres(args.postgres) if args.postgres else ("", None)
    try:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-parked-"))
        # The product's intervals (Settings defaults), not bench_breakouts' faster ones.
        from linkplane.settings import Settings

        defaults = Settings.model_fields
        bench = bb.setup(data_dir, endpoint, database_url, sweep=True,
                         workflow_queue_polling_seconds=defaults[
                             "workflow_queue_polling_seconds"].default,
                         breakout_poll_initial_seconds=defaults[
                             "breakout_poll_initial_seconds"].default,
                         breakout_watch_interval_seconds=args.watch,
                         # Each parked breakout counts its /24 as a TGW route; past 10,000
                         # AWS must raise the quota, as a provider would ask it to.
                         tgw_route_quota=max(10_000, n + args.creates + 100))  # fmt: skip
        system = SystemDb(bench)
        started = {"threads": _threads(), "rss_kib": _status_value("VmRSS")}
        parked, fill = _park(bench, system, n, args.timeout)
        result: dict[str, Any] = {"n": n, "fill_s": fill, "start": started,
                                  "threads": _threads(), "rss_kib": _status_value("VmRSS"),
                                  "hwm_kib": _status_value("VmHWM")}  # fmt: skip
        result["idle"] = _idle(cloud.pid, system, args.idle)
        print("PARTIAL " + json.dumps(result), flush=True)
        result |= _act(bench, parked, min(args.act, n), args.timeout)
        print("PARTIAL " + json.dumps(result), flush=True)
        _, times = _create(bench, n, args.creates, 1)
        result["create_p50"] = bb.percentile(times, 50)
        result["create_p99"] = bb.percentile(times, 99)
        result["threads_end"], result["rss_end_kib"] = _threads(), _status_value("VmRSS")
        bench.runtime.shutdown()
        return result
    finally:
        bb._stop(cloud)
        if drop is not None:
            drop()


def _measure(n: int, argv: list[str]) -> dict[str, Any] | None:
    cmd = [sys.executable, __file__, *argv, "--child", str(n)]
    # stderr passes through: progress while a large N fills, and the engine's log.
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    partial = [line for line in done.stdout.splitlines() if line.startswith("PARTIAL ")]
    print(f"N={n} failed (exit {done.returncode}; measured: {partial}); see its stderr",
          flush=True)  # fmt: skip
    return None


def _fmt(values: list[float], q: float) -> str:
    return f"{bb.percentile(values, q):.1f}" if values else "-"


def header(base: dict[str, Any]) -> None:
    print(f"baseline row: N = {base['n']}; (x) = ratio to it")
    print("| N | fill s | threads | RSS MiB | RSS KiB per parked | engine CPU s/s idle "
          "| cloud CPU s/s idle | AWS calls/s idle | DBOS steps/s idle | output chars/s idle "
          "| accept noticed p50 / max s | attach -> Active p50 / max s | noticed "
          "| create p50 s | create p99 s |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def row(r: dict[str, Any], base: dict[str, Any]) -> None:
    idle, b_idle = r["idle"], base["idle"]
    per = ((r["rss_kib"] - base["rss_kib"]) / (r["n"] - base["n"])
           if r["n"] != base["n"] else 0.0)  # fmt: skip
    ratio = "" if r is base else f" ({r['create_p50'] / max(base['create_p50'], 1e-9):.1f}x)"
    print(f"| {r['n']} | {r['fill_s']:.0f} | {r['threads']} | {r['rss_kib'] / 1024:.0f} | "
          f"{per:.1f} | {idle['engine_cpu']:.3f} "
          f"({idle['engine_cpu'] / max(b_idle['engine_cpu'], 1e-9):.1f}x) | "
          f"{idle['cloud_cpu']:.3f} | {idle['calls']:.2f} | {idle['steps']:.2f} | "
          f"{idle.get('output_bytes', 0):.0f} | "
          f"{_fmt(r['noticed'], 50)} / {_fmt(r['noticed'], 100)} | "
          f"{_fmt(r['active'], 50)} / {_fmt(r['active'], 100)} | "
          f"{len(r['noticed'])}/{r['acted']}, Active {len(r['active'])} | "
          f"{r['create_p50']:.3f}{ratio} | {r['create_p99']:.3f} |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10, 1000],
                        help="parked breakouts per row; the first row is the baseline")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (else SQLite files)")
    parser.add_argument("--idle", type=float, default=60.0, help="idle seconds measured")
    parser.add_argument("--act", type=int, default=10, help="customers who then act")
    parser.add_argument("--creates", type=int, default=100, help="creates measured after")
    parser.add_argument("--watch", type=float, default=5.0,
                        help="shared watch interval s (the product default is 5)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print("RESULT " + json.dumps(child(args.child, args)), flush=True)
        return
    argv = ["--postgres", args.postgres, "--idle", str(args.idle), "--act", str(args.act),
            "--creates", str(args.creates), "--watch", str(args.watch),
            "--timeout", str(args.timeout)]  # fmt: skip
    print(f"databases: {'PostgreSQL' if args.postgres else 'SQLite (WAL)'}; "
          f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    base: dict[str, Any] | None = None
    for n in args.n:
        r = _measure(n, argv)
        if r is None:  # printed; the next rows may still be measured
            continue
        print("RAW " + json.dumps(r), flush=True)
        if base is None:
            base = r
            header(base)
        row(r, base)
        print(f"load average now: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
