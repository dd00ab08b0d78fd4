"""A burst of parallel creates against a real served ``linkplane up`` (issue 13, item 1).

Before bounded admission, 50 parallel creates from one admin parked every request thread
waiting for a database connection: 500s after the 30 s pool timeout, "database is locked"
on SQLite, ``/health`` silent for seconds to minutes, rows stored for requests that were
never acknowledged. Now every request answers 201 or 503 with ``Retry-After``, liveness
answers throughout, another tenant is served during the burst, and exactly the
acknowledged rows are stored. Same on SQLite and on PostgreSQL. Only generous "answers at
all" bounds here; how fast a burst is served belongs in bench/.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL
from tests.process_support import wait_until
from tests.test_up import cli, free_port

BURST = 50
#: No request may take longer than this to answer at all (the defect: 120 s timeouts).
ANSWER_WITHIN = 60.0
DEMO = {"username": "admin@demo.example", "password": "Burst-demo-pass-9"}
OTHER = {"username": "admin@other.example", "password": "Burst-other-pass-9"}


@dataclass
class Served:
    """``linkplane up`` in a subprocess and what the test needs to reach it."""

    url: str
    database_url: str
    region: str
    proc: subprocess.Popen[bytes]
    log: Path

    def login(self, creds: dict[str, str]) -> dict[str, str]:
        resp = httpx.post(f"{self.url}/api/v1/authenticate", json=creds, timeout=ANSWER_WITHIN)
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['auth_token']}"}

    def count(self, table: str, prefix: str, where: str = "") -> int:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                query = sa.text(f"SELECT count(*) FROM {table} WHERE name LIKE :p {where}")
                return int(conn.execute(query, {"p": f"{prefix}%"}).scalar_one())
        finally:
            engine.dispose()


@dataclass
class Outcome:
    statuses: list[int | str] = field(default_factory=list)
    missing_retry_after: int = 0

    @property
    def created(self) -> int:
        return self.statuses.count(201)


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    env.update(LINKPLANE_DEMO_EMAIL=DEMO["username"], LINKPLANE_DEMO_PASSWORD=DEMO["password"],
               LINKPLANE_ADMIN_PASSWORD=OTHER["password"])  # fmt: skip
    if database_url.startswith("postgresql"):
        env["LINKPLANE_DATABASE_URL"] = database_url
    return env


def _serve(data_dir: Path, database_url: str) -> Iterator[Served]:
    env = _env(data_dir, database_url)
    port = free_port()
    log = data_dir.parent / "up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cli("up", "--data-dir", str(data_dir), "--port", str(port),
                                    "--cloud-port", str(free_port())),
                                stdout=out, stderr=subprocess.STDOUT, env=env)  # fmt: skip
    try:
        runtime = data_dir / "runtime.json"
        wait_until(lambda: runtime.exists() or proc.poll() is not None, "linkplane up", 120)
        assert proc.poll() is None, log.read_text()
        done = subprocess.run(cli("org", "create", "other", "--admin-email", OTHER["username"],
                                  "--data-dir", str(data_dir)),
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        region = json.loads(runtime.read_text())["region"]
        yield Served(f"http://127.0.0.1:{port}", database_url, region, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield from _serve(data_dir, f"sqlite:///{data_dir / 'linkplane.db'}")
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set LINKPLANE_TEST_POSTGRES_URL, e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")  # fmt: skip
    # A database of its own: ``up`` bootstraps a region and seeds the demo organisation.
    name = f"linkplane_burst_{secrets.token_hex(4)}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        yield from _serve(data_dir, url)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _burst(url: str, headers: dict[str, str], jobs: list[tuple[str, dict[str, Any]]]) -> Outcome:
    outcome = Outcome()

    def post(job: tuple[str, dict[str, Any]]) -> None:
        try:
            resp = httpx.post(url + job[0], json=job[1], headers=headers, timeout=ANSWER_WITHIN)
        except httpx.HTTPError as exc:
            outcome.statuses.append(type(exc).__name__)
            return
        outcome.statuses.append(resp.status_code)
        if resp.status_code == 503 and not resp.headers.get("retry-after", "").isdigit():
            outcome.missing_retry_after += 1

    with ThreadPoolExecutor(len(jobs)) as pool:
        list(pool.map(post, jobs))
    return outcome


def _probe_while(work: Callable[[], Outcome], probe: Callable[[], int | str]) -> tuple[
    Outcome, list[int | str]]:  # fmt: skip
    """Run ``work`` while ``probe`` runs in a loop beside it; the probe's answers."""
    answers: list[int | str] = []
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            answers.append(probe())
            done.wait(0.2)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        outcome = work()
    finally:
        done.set()
        thread.join(ANSWER_WITHIN + 5)
    return outcome, answers


def _get(url: str, headers: dict[str, str] | None = None) -> Callable[[], int | str]:
    def probe() -> int | str:
        try:
            return httpx.get(url, headers=headers, timeout=ANSWER_WITHIN).status_code
        except httpx.HTTPError as exc:
            return type(exc).__name__

    return probe


def _endpoints(served: Served, headers: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    sp = httpx.get(f"{served.url}/api/v1/service_profile", headers=headers).json()[0]["id"]
    tp = httpx.get(f"{served.url}/api/v1/tariff_profile", headers=headers).json()[0]["id"]
    return [("/api/v1/endpoint", {"name": f"burst-{i}", "status": {"id": 0},
                                  "service_profile": {"id": sp}, "tariff_profile": {"id": tp}})
            for i in range(BURST)]  # fmt: skip


def _breakouts(served: Served) -> list[tuple[str, dict[str, Any]]]:
    return [("/api/v1/cnc/breakout/tgw", {"type": 1, "name": f"burst-{i}", "region": served.region,
                                          "vpc_cidr": [f"10.{i}.0.0/24"],
                                          "aws_account_id": str(300_000_000_000 + i)})
            for i in range(BURST)]  # fmt: skip


@pytest.mark.parametrize("kind", ["endpoint", "breakout"])
def test_a_burst_of_creates_is_answered_and_stored_exactly(served: Served, kind: str) -> None:
    demo = served.login(DEMO)
    other = served.login(OTHER)
    jobs = _endpoints(served, demo) if kind == "endpoint" else _breakouts(served)
    health = _get(f"{served.url}/api/v1/health")
    tenant = _get(f"{served.url}/api/v1/endpoint", other)

    tenant_answers: list[int | str] = []

    def burst_beside_tenant() -> Outcome:
        result, seen = _probe_while(lambda: _burst(served.url, demo, jobs), tenant)
        tenant_answers.extend(seen)
        return result

    outcome, health_answers = _probe_while(burst_beside_tenant, health)

    assert set(outcome.statuses) <= {201, 503}, outcome.statuses  # no 500, no timeout
    assert outcome.missing_retry_after == 0
    assert outcome.created > 0, outcome.statuses
    assert served.count(kind, "burst-") == outcome.created  # stored == acknowledged
    assert health_answers and set(health_answers) == {200}, health_answers
    assert tenant_answers and set(tenant_answers) == {200}, tenant_answers  # not starved
    assert served.proc.poll() is None, served.log.read_text()
    if kind == "breakout":  # item 2: each stored breakout reaches its share, none stranded
        wait_until(lambda: served.count("breakout", "burst-", "AND share_arn IS NOT NULL")
                   == outcome.created, "every acknowledged breakout's share", 180)  # fmt: skip
