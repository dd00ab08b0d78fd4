"""API latency at fleet scale: 100,000 endpoints in one organisation plus 1,000 small ones.

Bulk-loads the database (core inserts, not the API), starts a real uvicorn server on
127.0.0.1 in a subprocess, and measures with httpx, sequentially, N requests each of:
listing a page of endpoints, fetching one endpoint, creating one endpoint, and the trivial
``GET /api/v1/health`` of the same app. Prints p50/p99 and each as a ratio to health's.

    .venv/bin/python bench/bench_api.py                       # SQLite, full scale
    .venv/bin/python bench/bench_api.py --scale 0.1 -n 200
    .venv/bin/python bench/bench_api.py --postgres postgresql+psycopg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text

from linkplane.addressing.models import IpAddressSpace
from linkplane.context import open_context
from linkplane.db import transaction, utcnow
from linkplane.devices.models import Endpoint
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.settings import Settings
from linkplane.tenancy import service as tenancy
from linkplane.tenancy.models import Organisation

SERVER = """
import sys, uvicorn
from linkplane.process.app import create_app
from linkplane.context import open_context
from linkplane.settings import Settings
ctx = open_context(Settings(data_dir=sys.argv[1], database_url=sys.argv[2]))
uvicorn.run(create_app(ctx.settings, ctx.sessionmaker), host="127.0.0.1",
            port=int(sys.argv[3]), log_level="warning", access_log=False)
"""


def _endpoint_rows(org_id: int, sp: int, tp: int, space_id: int, net: int, n: int) -> list[Any]:
    now = utcnow()
    return [
        {"org_id": org_id, "name": f"device-{i:06d}", "tags": "bench", "status": i % 2,
         "imei": None, "imei_lock": False, "service_profile_id": sp, "tariff_profile_id": tp,
         "ip_address_space_id": space_id, "ip_address": _ip(net + i), "sim_id": None,
         "created": now, "last_updated": now}
        for i in range(1, n + 1)
    ]  # fmt: skip


def _ip(value: int) -> str:
    return ".".join(str((value >> s) & 255) for s in (24, 16, 8, 0))


def _org(session: Any, name: str, cidr: str, endpoints: int) -> tuple[int, int, int]:
    """An organisation with profiles, a space and ``endpoints`` endpoints, by bulk insert."""
    org_id = session.execute(insert(Organisation).values(name=name, created_at=utcnow())
                             .returning(Organisation.id)).scalar_one()  # fmt: skip
    sp = session.execute(insert(ServiceProfile).values(
        org_id=org_id, name="sp", allowed_3g=True, allowed_4g=True, allowed_nb_iot=True,
        allowed_nb_iot_geo=False, apply_sms_quota=False, apply_data_quota=False, retail=False,
        sms_p2p_int=True, sms_p2p_ext=True, nipdp=False, allow_cloud_connect=True,
        created_at=utcnow()).returning(ServiceProfile.id)).scalar_one()  # fmt: skip
    tp = session.execute(insert(TariffProfile).values(org_id=org_id, name="tp", created_at=utcnow())
                         .returning(TariffProfile.id)).scalar_one()  # fmt: skip
    space = session.execute(insert(IpAddressSpace).values(
        cidr=cidr, ip_version=4, org_id=org_id, next_offset=endpoints + 1, used_count=endpoints,
        created_at=utcnow()).returning(IpAddressSpace.id)).scalar_one()  # fmt: skip
    net = int.from_bytes(bytes(int(p) for p in cidr.split("/")[0].split(".")), "big")
    rows = _endpoint_rows(org_id, sp, tp, space, net, endpoints)
    for start in range(0, len(rows), 5000):
        session.execute(insert(Endpoint), rows[start : start + 5000])
    return org_id, sp, tp


def load(settings: Settings, big: int, small_orgs: int) -> tuple[str, int, int, int]:
    """Bulk-load; returns an admin token of the big organisation, its profile ids and size."""
    ctx = open_context(settings)
    t0 = time.perf_counter()
    with transaction(ctx.sessionmaker) as s:
        for i in range(small_orgs):
            _org(s, f"small-{i:04d}", f"100.{66 + i // 256}.{i % 256}.0/24", 10)
        org_id, sp, tp = _org(s, "bench", "100.64.0.0/15", big)
        admin = tenancy.create_user(
            session=s, org_id=org_id, username="bench@example.com", name="bench",
            role=tenancy.Role.ADMIN, password="bench-password-1", principal=None,
        )  # fmt: skip
        admin_id = admin.id
    if settings.effective_database_url.startswith("postgresql"):
        # What autovacuum does soon after a bulk load: statistics, and the visibility map
        # that lets the list's count and page ids be index-only scans.
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"loaded {big:,} endpoints + {small_orgs:,} orgs in {time.perf_counter() - t0:.1f}s")
    token = tenancy.mint(settings=settings, org_id=org_id, role="admin", user_id=admin_id)
    ctx.close()
    return token, sp, tp, org_id


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _measure(call: Callable[[], httpx.Response], n: int, expect: int) -> list[float]:
    for _ in range(min(20, n)):
        call()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = call()
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == expect, (r.status_code, r.text[:300])
    return times


def _pct(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace, settings: Settings) -> None:
    big, small = int(100_000 * args.scale), int(1000 * args.scale)
    token, sp, tp, _org_id = load(settings, big, small)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(settings.data_dir), settings.effective_database_url,
         str(port)]
    )  # fmt: skip
    try:
        _bench(args, f"http://127.0.0.1:{port}", token, sp, tp, big)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _bench(args: argparse.Namespace, base: str, token: str, sp: int, tp: int, big: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    client = httpx.Client(base_url=base, headers=headers, timeout=30)
    for _ in range(200):
        try:
            if client.get("/api/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    ids = client.get("/api/v1/endpoint", params={"per_page": 1000}).json()
    first_id = ids[0]["id"]
    rng = random.Random(7)
    pages = max(1, big // args.per_page)
    body = {"name": "new", "status": {"id": 0}, "service_profile": {"id": sp},
            "tariff_profile": {"id": tp}}  # fmt: skip
    calls: dict[str, tuple[Callable[[], httpx.Response], int]] = {
        "health": (lambda: client.get("/api/v1/health"), 200),
        f"list page (per_page={args.per_page}, random page)": (lambda: client.get(
            "/api/v1/endpoint",
            params={"page": rng.randint(1, pages), "per_page": args.per_page}), 200),
        "list first page, q=status:1, sort=-name": (lambda: client.get(
            "/api/v1/endpoint", params={"per_page": args.per_page, "q": "status:1",
                                        "sort": "-name"}), 200),
        "get one endpoint": (lambda: client.get(
            f"/api/v1/endpoint/{first_id + rng.randrange(big)}"), 200),
        "create one endpoint": (lambda: client.post("/api/v1/endpoint", json=body), 201),
    }  # fmt: skip
    results = {name: _measure(call, args.n, code) for name, (call, code) in calls.items()}
    h50, h99 = _pct(results["health"], 50), _pct(results["health"], 99)
    print(f"{'request':<48} {'p50 ms':>8} {'p99 ms':>8} {'p50 x':>7} {'p99 x':>7}")
    for name, times in results.items():
        p50, p99 = _pct(times, 50), _pct(times, 99)
        print(f"{name:<48} {p50:8.2f} {p99:8.2f} {p50 / h50:7.1f} {p99 / h99:7.1f}")


def _postgres_settings(url: str, data_dir: Path) -> tuple[Settings, Callable[[], None]]:
    name = f"lp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    db_url = url.rsplit("/", 1)[0] + f"/{name}"
    return Settings(data_dir=data_dir, database_url=db_url), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 endpoints")
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (else SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        if args.postgres:
            settings, cleanup = _postgres_settings(args.postgres, data_dir)
        else:
            settings, cleanup = Settings(data_dir=data_dir), (lambda: None)
        backend = "PostgreSQL" if args.postgres else "SQLite (WAL)"
        print(f"backend: {backend}; scale {args.scale}; {args.n} requests each")
        try:
            run(args, settings)
        finally:
            cleanup()


if __name__ == "__main__":
    main()
