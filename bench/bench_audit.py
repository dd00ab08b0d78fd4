"""Benchmark: AWS API calls (and time) that ``verify`` and ``audit`` need as routes grow.

A fresh provider account in the embedded cloud, one bootstrapped region, and N static
routes added by hand to its core route table (each pointing at the core attachment, so
every one is an ``unowned_route`` for the audit and a ``stale_route`` for the verifier).
Calls are counted with botocore's ``before-call`` event on the adapter's session, so they
are exactly the requests AWS would receive.

    .venv/bin/python bench/bench_audit.py                      # 1,000 / 3,000 / 10,000 routes
    .venv/bin/python bench/bench_audit.py --routes 1000 2000   # quicker

SearchTransitGatewayRoutes answers at most 1,000 routes without a NextToken, so the adapter
narrows truncated answers by prefix (see ``AwsCloud.search_routes``); everything else is one
paginated call per table or per account.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from linkplane.cloud.aws import AwsCloud, SessionSource
from linkplane.cloud.factory import session_source
from linkplane.context import open_context
from linkplane.isolation import service
from linkplane.isolation.state import load_regions
from linkplane.localcloud import server
from linkplane.localcloud.accounts import session_for
from linkplane.regions import service as regions
from linkplane.settings import Settings

REGION = "eu-west-2"


class Counter:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any = None, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1


def _cidr(i: int) -> str:
    return f"172.{16 + i // 4096}.{(i // 16) % 256}.{(i % 16) * 16}/28"


def _fill(settings: Settings, table: str, att: str, start: int, stop: int) -> None:
    def client() -> Any:
        session = session_for(settings.provider_account_id, region=REGION,
                              endpoint_url=settings.aws_endpoint_url)  # fmt: skip
        return session.client("ec2", endpoint_url=settings.aws_endpoint_url)

    clients = [client() for _ in range(4)]

    def add(i: int) -> None:
        clients[i % 4].create_transit_gateway_route(
            TransitGatewayRouteTableId=table, DestinationCidrBlock=_cidr(i),
            TransitGatewayAttachmentId=att)  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add, range(start, stop)))


def _counted(settings: Settings, counter: Counter) -> AwsCloud:
    inner = session_source(settings, REGION)

    def make() -> Any:
        session = inner.session()
        session.events.register("before-call.*.*", counter)
        return session

    return AwsCloud(SessionSource(make, inner.endpoint_url), region=REGION,
                    account_id=settings.provider_account_id)  # fmt: skip


def _measure(run: Callable[[], object], counter: Counter) -> tuple[int, int, float]:
    counter.calls.clear()
    t0 = time.perf_counter()
    run()
    searches = counter.calls.get("SearchTransitGatewayRoutes", 0)
    return sum(counter.calls.values()), searches, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, nargs="+", default=[1000, 3000, 10000])
    args = parser.parse_args()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request
    cloud = server.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    settings = Settings(data_dir=tmp, cloud="embedded", aws_endpoint_url=cloud.endpoint_url,
                        provider_account_id="777000000001", default_region=REGION)  # fmt: skip
    ctx = open_context(settings)
    counter = Counter()
    port = _counted(settings, counter)
    regions.bootstrap(factory=ctx.sessionmaker, cloud=port, settings=settings, region=REGION)
    with ctx.sessionmaker() as session:
        spec = load_regions(session)[0]
    verify = lambda: service.verify_isolation(  # noqa: E731
        settings=settings, factory=ctx.sessionmaker, cloud_for=lambda r: port)
    audit = lambda: service.audit(  # noqa: E731
        settings=settings, factory=ctx.sessionmaker, cloud_for=lambda r: port)
    print(f"{'routes':>7} | {'verify calls':>12} {'(search)':>8} {'s':>6} | "
          f"{'audit calls':>11} {'(search)':>8} {'s':>6} | calls per 1,000 routes (audit)")
    done = 0
    for target in sorted(args.routes):
        _fill(settings, spec.core_table_id, spec.core_attachment_id, done, target)
        done = target
        v, a = _measure(verify, counter), _measure(audit, counter)
        print(f"{target:>7} | {v[0]:>12} {v[1]:>8} {v[2]:>6.2f} | {a[0]:>11} {a[1]:>8} "
              f"{a[2]:>6.2f} | {a[0] * 1000 / target:.1f}")
    ctx.close()
    cloud.stop()


if __name__ == "__main__":
    main()
