"""Proof (issue 10): the production topology as real processes on PostgreSQL.

The embedded cloud, ``linkplane migrate``, the provider's commands from the environment, two
``serve`` and three ``worker`` processes. Thirty breakouts are requested through both APIs
while their customers act; one worker is SIGKILLed halfway, holding waiting workflows: its
workflows are taken over and every breakout ends Active with exactly one share
association, one accepted attachment and one route, and no error event. A second test
deletes Active breakouts and SIGKILLs a worker in the middle of a deletion.

Skipped without ``LINKPLANE_TEST_POSTGRES_URL`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgdb import own_database
from tests.process_support import PROVIDER, REGION, Api, Cluster, wait_until
from tests.test_breakouts_faults_support import (
    ACTIVE_ONE_CIDR,
    NOTHING,
    Customer,
    counts,
    owned,
)

# Each test takes about a minute (starting the processes, another, counts to the first);
# the margin is for a loaded machine.
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]
ACTIVE, DEACTIVATED = 5, 7
PASSWORD = "proof-" + secrets.token_urlsafe(12)


@pytest.fixture(scope="module")
def cluster(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # A database of its own: the session's shared one holds other tests' breakouts, whose
    # CIDRs on the same region would refuse this test's (another organisation's range).
    with own_database(postgres_url, "linkplane_cluster") as url:
        yield from _cluster(Cluster(tmp_path_factory.mktemp("production"), url))


def _cluster(c: Cluster) -> Iterator[Cluster]:
    try:
        c.start_cloud()
        c.run("migrate")
        c.run("migrate")  # idempotent
        c.run("region", "bootstrap", "--region", REGION)  # no --data-dir: the environment
        c.run("org", "create", "fleet", "--admin-email", "ops@fleet.example.com",
              "--admin-password", PASSWORD)  # fmt: skip
        c.start_serve("serve-1")
        c.start_serve("serve-2")
        for name in ("worker-1", "worker-2", "worker-3"):
            c.start_worker(name)
        yield c
    finally:
        c.stop_all()


def _apis(cluster: Cluster) -> list[Api]:
    return [Api(url, "ops@fleet.example.com", PASSWORD) for url in cluster.serve_urls]


def _inventory(cluster: Cluster, accounts: list[str]) -> object:
    from linkplane.localcloud.inventory import snapshot

    return snapshot(cluster.endpoint, [PROVIDER, *accounts], [REGION])


def _errors(data: dict[str, object]) -> list[str]:
    history = data["history"]
    assert isinstance(history, list)
    return [e["description"] for e in history if e.get("severity", 0) > 0
            or e["detail"].get("to") == 8]  # fmt: skip


def _drive(customers: list[Customer], done: object, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < end, "timed out driving the customers"
        for customer in customers:
            customer.act()
        time.sleep(0.1)


def _busiest(cluster: Cluster, like: str, among: list[str]) -> str:
    """The live worker running most of the workflows whose ids match ``like``."""
    found: dict[str, int] = {}

    def any_running() -> bool:
        found.update(cluster.pending_executors(like))
        return any(found.get(w, 0) for w in among)

    wait_until(any_running, f"a worker running {like}", 30)
    return max(among, key=lambda w: found.get(w, 0))


def test_thirty_breakouts_through_two_apis_survive_a_killed_worker(cluster: Cluster) -> None:
    apis, tgw_id = _apis(cluster), cluster.tgw_id()
    plan = [(f"{810000000000 + k}", f"10.{60 + k}.0.0/24") for k in range(30)]
    customers = [Customer(cluster.endpoint, a, tgw_id, c) for a, c in plan]
    ids = [apis[k % 2].create(a, c) for k, (a, c) in enumerate(plan[:15])]
    # Halfway: kill the worker holding most of the waiting breakouts, then the rest arrive.
    victim = _busiest(cluster, "breakout-%", ["worker-1", "worker-2", "worker-3"])
    for customer in customers[:8]:
        customer.act()
    cluster.kill(victim)
    ids += [apis[k % 2].create(a, c) for k, (a, c) in enumerate(plan[15:])]

    def all_active() -> bool:
        return all(apis[0].get(b)["status"]["id"] == ACTIVE for b in ids)

    _drive(customers, all_active, timeout=100)
    inv = _inventory(cluster, [a for a, _ in plan])
    for bid, (account, cidr) in zip(ids, plan, strict=True):
        assert counts(owned(inv, account, bid, [cidr])) == ACTIVE_ONE_CIDR, (bid, account)
        data = apis[1].get(bid)
        assert _errors(data) == [], (bid, data["history"])
    assert cluster.procs[victim].proc.returncode == -9
    taken = [p for p in cluster.procs.values() if "recovered workflows of a dead executor"
             in p.output()]  # fmt: skip
    assert taken, "no live worker took the killed one's workflows over"


def test_a_worker_killed_in_the_middle_of_deletions_loses_none(cluster: Cluster) -> None:
    apis, tgw_id = _apis(cluster), cluster.tgw_id()
    plan = [(f"{820000000000 + k}", f"10.{120 + k}.0.0/24") for k in range(8)]
    customers = [Customer(cluster.endpoint, a, tgw_id, c) for a, c in plan]
    ids = [apis[k % 2].create(a, c) for k, (a, c) in enumerate(plan)]
    _drive(customers, lambda: all(apis[0].get(b)["status"]["id"] == ACTIVE for b in ids), 90)
    live = [n for n, p in cluster.procs.items() if n.startswith("worker-") and p.alive()]
    for k, bid in enumerate(ids):
        apis[k % 2].delete(bid)
    victim = _busiest(cluster, "%-delete", live)
    cluster.kill(victim)
    if len(live) == 1:  # run alone, the first test's kill did not happen: keep one worker
        cluster.start_worker("worker-4")
    wait_until(lambda: all(apis[0].get(b)["status"]["id"] == DEACTIVATED for b in ids),
               "every breakout deleted", 60)  # fmt: skip
    inv = _inventory(cluster, [a for a, _ in plan])
    for bid, (account, cidr) in zip(ids, plan, strict=True):
        data = apis[1].get(bid)
        assert data["status_reason"] == "deleted", data
        assert _errors(data) == [], (bid, data["history"])
        # The customer's VPC attachment is deleted (gone for the inventory) like the rest.
        assert counts(owned(inv, account, bid, [cidr])) == NOTHING, (bid, account)


def test_serve_refuses_to_start_on_postgres_without_a_jwt_secret(
    cluster: Cluster, tmp_path: Path
) -> None:
    import subprocess

    from tests.process_support import ROOT
    from tests.test_up import cli

    env = cluster.env(jwt_secret="")
    done = subprocess.run(cli("serve", "--port", "0"), env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "LINKPLANE_JWT_SECRET is not set" in done.stderr and "Traceback" not in done.stderr
