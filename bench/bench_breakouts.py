"""Benchmark: N breakouts provisioned concurrently against the embedded cloud.

    .venv/bin/python bench/bench_breakouts.py                  # N = 10 and 100, throttled 100
    .venv/bin/python bench/bench_breakouts.py --n 10 100 1000 --throttled 100 1000
    .venv/bin/python bench/bench_breakouts.py --vpn 2 --n 100 --throttled 100   # VPN breakouts

Each (mode, N) runs in a fresh child process with its own embedded cloud, started as a
separate process (``linkplane cloud serve``, as AWS is not in linkplane's process), its own
SQLite databases, and the real engine (DBOS, the boto3 adapter with its rate limiter and
retries, the shared watch). The customers, automated with boto3 in the child, act as soon
as their invitation exists: accept it, create a VPC and the TGW attachment.

For each N it prints:
- linkplane: wall time from the first create to the last breakout Active, breakouts/s, and
  the child's CPU seconds per breakout over that time (engine and customers' boto3);
- baseline: a plain boto3 loop making the same AWS calls (provider and customer) one
  breakout after the other, without linkplane, measured in the same child against the same
  cloud; and the ratio linkplane/baseline of breakouts per second;
- create latency p50/p99: the time of each create (``service.create_tgw`` in its
  transaction + ``start_provisioning``, what the API's POST does) while the breakouts
  created before it are in flight (the last creates of N = 1000 see ~1,000 in flight).
Unthrottled runs switch linkplane's client-side limiter off too (both sides unlimited).
Throttled runs (the embedded cloud enforcing EC2's documented buckets, also on RAM) print
the wall time against the lower bound those buckets allow for the mutating EC2 calls a
breakout needs (accept, associate, one TGW route and one core-VPC route per CIDR: burst 50,
then 5/s), and the number of errors that reached users (breakouts not Active, rollbacks,
error events), which must be 0.

``--vpn TYPE`` (2 static, 3 BGP, 4 BGP HA) measures IPsec VPN breakouts instead: request to
Active with no customer action (AWS's minutes of VPN set-up are the embedded cloud's one
read), no baseline script; the throttled bound counts the mutating EC2 calls of a one-CIDR
VPN breakout (customer gateway, VPN connection, association per connection, then one TGW
route and one core-VPC route; linkplane's TGW has ECMP: no ModifyTransitGateway).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import breakouts_workers as workers_mode

REGION = "eu-central-1"
PROVIDER = "111111111111"
#: Mutating EC2 calls per one-CIDR breakout: Accept, Associate, CreateTransitGatewayRoute,
#: CreateRoute (core VPC). Reads are not counted: the bound is what provisioning must spend.
MUTATING_EC2_PER_BREAKOUT = 4
#: The same for a one-CIDR VPN breakout: CreateCustomerGateway, CreateVpnConnection and
#: AssociateTransitGatewayRouteTable per connection, CreateTransitGatewayRoute, CreateRoute.
MUTATING_EC2_PER_VPN = {2: 5, 3: 5, 4: 8}
BURST, REFILL = 50.0, 5.0
#: The shared watch's interval in the benchmark (the product default is 5 s; see README).
WATCH_INTERVAL = 1.0
_accounts = itertools.count(800000000000)
_nets = itertools.count(0)


@dataclass
class Bench:
    endpoint: str
    settings: Any
    factory: Any
    tgw_id: str
    tgw_arn: str
    core_rt: str
    customers_rt: str
    core_vpc: str
    org_id: int
    runtime: Any
    #: How this process starts workflows: its own runtime's, or (``--workers``) the queue.
    client: Any
    last_ids: list[int] | None = None
    #: Seconds of each create (``service.create_tgw`` + ``start_provisioning``) of the last run.
    create_times: list[float] | None = None
    #: The embedded cloud's process, and its CPU seconds over the last measured phase.
    cloud_pid: int = 0
    cloud_cpu: float = 0.0
    #: This process's CPU seconds over the baseline script's run.
    baseline_cpu: float = 0.0


class CallCounter:
    """Provider-side AWS calls made in this process (botocore's API calls; customers' clients
    are marked and not counted): what AWS would bill linkplane's account for, per run."""

    def __init__(self) -> None:
        import threading

        from botocore.client import BaseClient

        self.count = 0
        lock = threading.Lock()
        original = BaseClient._make_api_call

        def counted(client: Any, operation: str, params: Any) -> Any:
            if not getattr(client, "_lp_customer", False):
                with lock:
                    self.count += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


CALLS: CallCounter | None = None


def _cidr() -> str:
    k = next(_nets)
    return f"172.{16 + k // 256}.{k % 256}.0/24"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cloud(*, throttled: bool) -> tuple[subprocess.Popen[bytes], str]:
    """``linkplane cloud serve`` in its own process; returns it and its endpoint."""
    port = _free_port()
    cmd = [sys.executable, "-m", "linkplane", "cloud", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd + (["--throttling"] if throttled else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(1200):  # 2 minutes: a loaded machine starts moto slowly
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the embedded cloud did not start on port {port}")


def fresh_postgres(url: str) -> tuple[str, Any]:
    """A new database next to ``url`` (application and DBOS tables) and its dropper."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"lp_bench_breakouts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def setup(data_dir: Path, endpoint: str, database_url: str = "", *, launch: bool = True,
          sweep: bool = False, **overrides: Any) -> Bench:  # fmt: skip
    """Databases, region, organisation; and, with ``launch``, the engine in this process
    (without it, worker processes run the workflows this process enqueues). ``overrides``
    replace this benchmark's settings (e.g. the product's poll and watch intervals);
    ``sweep`` schedules the periodic sweep as a worker does."""
    for key, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    from linkplane.attachments.regions import region_info
    from linkplane.cloud.factory import make_cloud
    from linkplane.context import open_context
    from linkplane.db import transaction
    from linkplane.durable.client import QueueClient
    from linkplane.durable.runtime import Runtime
    from linkplane.process import hooks
    from linkplane.regions import service as regions
    from linkplane.settings import Settings
    from linkplane.tenancy.models import Organisation

    values: dict[str, Any] = {"workflow_queue_polling_seconds": 0.2,
                              "breakout_poll_initial_seconds": 0.5,
                              "breakout_watch_interval_seconds": WATCH_INTERVAL,
                              **({"database_url": database_url} if database_url else {}),
                              **overrides}  # fmt: skip
    settings = Settings(data_dir=data_dir, cloud="embedded", aws_endpoint_url=endpoint,
                        provider_account_id=PROVIDER, dbos_executor_id="bench",
                        **values)  # fmt: skip
    ctx = open_context(settings)
    regions.bootstrap(factory=ctx.sessionmaker, cloud=make_cloud(settings, REGION),
                      settings=settings, region=REGION)  # fmt: skip
    with ctx.sessionmaker() as session:
        info = region_info(session=session, name=REGION)
    assert info is not None
    with transaction(ctx.sessionmaker) as session:
        org = Organisation(name="bench")
        session.add(org)
        session.flush()
        org_id = int(org.id)
    rt, client = None, QueueClient(settings)
    if launch:
        rt = Runtime.build(settings, ctx.sessionmaker)
        hooks.install_workflows(rt, sweep=sweep)
        rt.launch()
        client = rt.client
    return Bench(endpoint, settings, ctx.sessionmaker, info.tgw_id, info.tgw_arn,
                 info.core_route_table_id, info.customers_route_table_id, info.core_vpc_id,
                 org_id, rt, client)  # fmt: skip


class Customer:
    """A customer account that accepts its invitation once it exists, then attaches."""

    def __init__(self, bench: Bench, account: str, cidr: str) -> None:
        from linkplane.localcloud.accounts import session_for

        session = session_for(account, region=REGION, endpoint_url=bench.endpoint)
        self.ram = session.client("ram", endpoint_url=bench.endpoint)
        self.ec2 = session.client("ec2", endpoint_url=bench.endpoint)
        self.ram._lp_customer = self.ec2._lp_customer = True  # not counted in CallCounter
        self.tgw_id, self.cidr, self.account = bench.tgw_id, cidr, account

    def act(self) -> None:
        """What the customer's admin does after the invitation e-mail: accept, attach."""
        while not self.accept():  # RAM may show the invitation a moment after the share
            time.sleep(0.2)
        self.attach()

    def accept(self) -> bool:
        found = self.ram.get_resource_share_invitations()["resourceShareInvitations"]
        pending = [i for i in found if i["status"] == "PENDING"]
        for inv in pending:
            arn = inv["resourceShareInvitationArn"]
            self.ram.accept_resource_share_invitation(resourceShareInvitationArn=arn)
        return bool(pending)

    def attach(self) -> str:
        vpc = self.ec2.create_vpc(CidrBlock=self.cidr)["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock=self.cidr)["Subnet"]["SubnetId"]
        att = self.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=self.tgw_id, VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]
        return str(att["TransitGatewayAttachmentId"])


def _create(bench: Bench, customers: list[Customer]) -> list[int]:
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutTgwCreate
    from linkplane.attachments.workflows.messages import start_provisioning
    from linkplane.db import transaction
    from linkplane.tenancy.principal import Principal, Role

    principal = Principal(user_id=1, org_id=bench.org_id, role=Role.ADMIN)
    ids, bench.create_times = [], []
    for c in customers:
        data = BreakoutTgwCreate(name="bench", vpc_cidr=[c.cidr], region=REGION,
                                 aws_account_id=c.account)  # fmt: skip
        began = time.perf_counter()
        with transaction(bench.factory) as session:
            row = service.create_tgw(session=session, settings=bench.settings,
                                     principal=principal, data=data)  # fmt: skip
            bid = int(row.id)
        start_provisioning(bench.client, bid, 1)
        # What the API's create costs while the earlier breakouts are in flight.
        bench.create_times.append(time.perf_counter() - began)
        ids.append(bid)
    return ids


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; 0 for none."""
    if not values:
        return 0.0
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, int(-(-q * len(ranked) // 100)) - 1))]


def _create_vpn(bench: Bench, n: int, type_id: int) -> list[int]:
    """n VPN breakouts (one on-prem CIDR, own public IPs), each workflow started at once."""
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutVpnCreate
    from linkplane.attachments.workflows.messages import start_provisioning
    from linkplane.db import transaction
    from linkplane.tenancy.principal import Principal, Role

    principal = Principal(user_id=1, org_id=bench.org_id, role=Role.ADMIN)
    ids = []
    for k in range(n):
        body: dict[str, Any] = {"type": type_id, "name": "bench-vpn", "region": REGION,
                                "public_ip": f"81.2.{k // 250}.{k % 250 + 1}",
                                "on_prem_cidr": [_cidr()]}  # fmt: skip
        if type_id in (3, 4):
            body["asn"] = 65000 + k % 500
        if type_id == 4:
            body["public_ip_2"] = f"81.3.{k // 250}.{k % 250 + 1}"
        with transaction(bench.factory) as session:
            row = service.create_vpn(session=session, settings=bench.settings,
                                     principal=principal,
                                     data=BreakoutVpnCreate.model_validate(body))  # fmt: skip
            bid = int(row.id)
        start_provisioning(bench.client, bid, 1)
        ids.append(bid)
    return ids


def run_vpn(bench: Bench, n: int, timeout: float, type_id: int) -> tuple[float, float, int]:
    """Wall and CPU seconds from the first request until all n VPN breakouts are Active (no
    customer acts), and the user errors."""
    if CALLS is not None:
        CALLS.take()
    cpu0, start = _cpu(), time.perf_counter()
    ids = _create_vpn(bench, n, type_id)
    while time.perf_counter() - start < timeout:
        if _finished(bench, ids) == n:
            break
        time.sleep(0.2)  # how often the benchmark looks, not a race
    wall, cpu = time.perf_counter() - start, _cpu() - cpu0
    bench.last_ids = ids
    return wall, cpu, _user_errors(bench, ids)


def _finished(bench: Bench, ids: list[int]) -> int:
    """How many of ids are Active or Deactivated, counted by the database: the benchmark's
    looking must cost little next to the engine it measures (reading every breakout's row
    every 0.2 s was a fifth of the process's CPU at N = 1000)."""
    from sqlalchemy import func, select

    from linkplane.attachments.models import Breakout

    with bench.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Breakout).where(
            Breakout.id.in_(ids), Breakout.status_id.in_((5, 7)))) or 0)  # fmt: skip


def _shared(bench: Bench, ids: set[int]) -> list[int]:
    """Those of ids whose share exists (their invitation went out)."""
    from sqlalchemy import select

    from linkplane.attachments.models import Breakout

    if not ids:
        return []
    with bench.factory() as session:
        return [int(i) for i in session.scalars(select(Breakout.id).where(
            Breakout.id.in_(ids), Breakout.share_arn.is_not(None)))]  # fmt: skip


def _statuses(bench: Bench, ids: list[int]) -> dict[int, tuple[int, bool]]:
    """Status id and whether the share exists (the invitation went out), per breakout."""
    from sqlalchemy import select

    from linkplane.attachments.models import Breakout

    with bench.factory() as session:
        rows = session.execute(select(Breakout.id, Breakout.status_id, Breakout.share_arn)
                               .where(Breakout.id.in_(ids)))  # fmt: skip
        return {int(i): (int(s), bool(arn)) for i, s, arn in rows}


def _user_errors(bench: Bench, ids: list[int]) -> int:
    """Breakouts not Active plus error events (severity > 0) on them."""
    from sqlalchemy import func, select

    from linkplane.attachments.service import ENTITY
    from linkplane.events.models import Event

    not_active = sum(1 for s, _ in _statuses(bench, ids).values() if s != 5)
    with bench.factory() as session:
        mine = (Event.entity_type == ENTITY, Event.entity_id.in_(ids), Event.severity > 0)
        severe = session.scalar(select(func.count()).select_from(Event).where(*mine))
    return not_active + int(severe or 0)


def workflow_errors(bench: Bench, ids: list[int]) -> int:
    """Provisioning workflows DBOS recorded as ERROR (the breakout may still look Active:
    a step after ``activate`` failed), read from the DBOS system database."""
    import sqlalchemy as sa

    from linkplane.durable.config import system_database_url

    wanted = [f"breakout-{i}-1" for i in ids]
    url = system_database_url(bench.settings)
    table = "dbos.workflow_status" if url.startswith("postgresql") else "workflow_status"
    engine = sa.create_engine(url)
    query = sa.text(f"SELECT workflow_uuid FROM {table} WHERE status = 'ERROR'")
    with engine.connect() as conn:
        failed = {r[0] for r in conn.execute(query)}
    engine.dispose()
    return len(failed.intersection(wanted))


def run_linkplane(bench: Bench, n: int, timeout: float) -> tuple[float, float, int]:
    """Wall and CPU seconds until all n are Active (customers acting meanwhile), user errors."""
    customers = [Customer(bench, str(next(_accounts)), _cidr()) for _ in range(n)]
    if CALLS is not None:
        CALLS.take()
    cpu0, cloud0, start = _cpu(), _proc_cpu(bench.cloud_pid), time.perf_counter()
    ids = _create(bench, customers)
    by_id, waiting = dict(zip(ids, customers, strict=True)), set(ids)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="customer") as admins:
        while time.perf_counter() - start < timeout:
            if _finished(bench, ids) == n:
                break
            for bid in _shared(bench, waiting):
                waiting.discard(bid)
                admins.submit(by_id[bid].act)
            time.sleep(0.2)  # how often the benchmark looks, not a race
    wall, cpu = time.perf_counter() - start, _cpu() - cpu0
    bench.cloud_cpu = _proc_cpu(bench.cloud_pid) - cloud0
    bench.last_ids = ids
    return wall, cpu, _user_errors(bench, ids)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of another process so far (0 when there is none)."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _baseline_one(bench: Bench, provider: Any, c: Customer, k: int) -> None:
    """The AWS calls of one breakout, in order, as a plain script would make them."""
    ram, ec2 = provider
    name = f"baseline-{k}"
    ram.get_resource_shares(resourceOwner="SELF", name=name)
    arn = ram.create_resource_share(
        name=name, resourceArns=[bench.tgw_arn], principals=[c.account],
        allowExternalPrincipals=True, clientToken=name,
    )["resourceShare"]["resourceShareArn"]  # fmt: skip
    c.accept()
    ram.get_resource_share_associations(associationType="PRINCIPAL", resourceShareArns=[arn])
    att = c.attach()
    ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "transit-gateway-id", "Values": [bench.tgw_id]},
        {"Name": "resource-owner-id", "Values": [c.account]}])  # fmt: skip
    ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[att])
    ec2.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att)
    ec2.describe_transit_gateway_attachments(TransitGatewayAttachmentIds=[att])
    ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=bench.customers_rt, TransitGatewayAttachmentId=att
    )
    ec2.search_transit_gateway_routes(TransitGatewayRouteTableId=bench.core_rt, Filters=[
        {"Name": "type", "Values": ["static", "propagated"]},
        {"Name": "route-search.exact-match", "Values": [c.cidr]}])  # fmt: skip
    ec2.create_transit_gateway_route(DestinationCidrBlock=c.cidr, TransitGatewayRouteTableId=
                                     bench.core_rt, TransitGatewayAttachmentId=att)  # fmt: skip
    tables = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [bench.core_vpc]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"]  # fmt: skip
    table = tables[0]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock=c.cidr, TransitGatewayId=bench.tgw_id)


def run_baseline(bench: Bench, n: int) -> float:
    from linkplane.localcloud.accounts import session_for

    session = session_for(PROVIDER, region=REGION, endpoint_url=bench.endpoint)
    provider = (session.client("ram", endpoint_url=bench.endpoint),
                session.client("ec2", endpoint_url=bench.endpoint))  # fmt: skip
    customers = [Customer(bench, str(next(_accounts)), _cidr()) for _ in range(n)]
    if CALLS is not None:
        CALLS.take()
    cpu0, cloud0, start = _cpu(), _proc_cpu(bench.cloud_pid), time.perf_counter()
    for c in customers:
        _baseline_one(bench, provider, c, next(_nets))
    bench.cloud_cpu, bench.baseline_cpu = _proc_cpu(bench.cloud_pid) - cloud0, _cpu() - cpu0
    return time.perf_counter() - start


def client_limiter(*, on: bool) -> None:
    """linkplane's own client-side EC2 buckets (per process): off for the unthrottled runs,
    so they measure the engine against an unthrottled baseline; on (and full) otherwise."""
    from linkplane.cloud.ratelimit import EC2_BUCKETS, PROCESS_LIMITER, BucketSpec

    huge = BucketSpec(capacity=1e9, refill_per_second=1e9)
    PROCESS_LIMITER._specs = dict(EC2_BUCKETS) if on else dict.fromkeys(EC2_BUCKETS, huge)
    PROCESS_LIMITER._buckets.clear()


def lower_bound(n: int, vpn: int = 0) -> float:
    """Seconds EC2's mutating bucket needs for n breakouts' mutating calls (full at start)."""
    per = MUTATING_EC2_PER_VPN[vpn] if vpn else MUTATING_EC2_PER_BREAKOUT
    return max(0.0, (n * per - BURST) / REFILL)


def child(mode: str, n: int, timeout: float, postgres: str, vpn: int = 0) -> dict[str, Any]:
    """One measurement in this process: a fresh cloud process, databases and engine."""
    global CALLS
    throttled = mode == "throttled"
    CALLS = CallCounter()
    cloud, endpoint = start_cloud(throttled=throttled)
    database_url, drop = fresh_postgres(postgres) if postgres else ("", None)
    try:
        data_dir = Path(tempfile.mkdtemp(prefix="bench-breakouts-"))
        bench = setup(data_dir, endpoint, database_url)
        bench.cloud_pid = cloud.pid
        client_limiter(on=throttled)
        wall, cpu, errors = (run_vpn(bench, n, timeout, vpn) if vpn
                             else run_linkplane(bench, n, timeout))  # fmt: skip
        result = {"n": n, "wall": wall, "cpu": cpu, "errors": errors, "calls": CALLS.take(),
                  "workflow_errors": workflow_errors(bench, bench.last_ids or []),
                  "create_p50": percentile(bench.create_times or [], 50),
                  "create_p99": percentile(bench.create_times or [], 99),
                  "cloud_cpu": bench.cloud_cpu}  # fmt: skip
        # Printed at once (and again by the caller with the baseline): a measurement that
        # took half an hour must survive whatever goes wrong afterwards.
        print("PARTIAL " + json.dumps(result), flush=True)
        if not throttled and not vpn:
            result["baseline"] = run_baseline(bench, n)
            result["baseline_calls"] = CALLS.take()
            result["baseline_cpu"] = bench.baseline_cpu
            result["baseline_cloud_cpu"] = bench.cloud_cpu
        bench.runtime.shutdown()
        return result
    finally:
        _stop(cloud)
        if drop is not None:
            drop()


def _stop(cloud: subprocess.Popen[bytes]) -> None:
    """Stop the cloud process; one holding gigabytes may take long to exit on SIGTERM."""
    cloud.terminate()
    try:
        cloud.wait(timeout=30)
    except subprocess.TimeoutExpired:
        cloud.kill()
        cloud.wait()


def _measure(mode: str, n: int, timeout: float, postgres: str, vpn: int = 0
             ) -> dict[str, Any]:  # fmt: skip
    cmd = [sys.executable, __file__, "--child", mode, "--n", str(n), "--timeout", str(timeout),
           "--postgres", postgres, "--vpn", str(vpn)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT "):])
            return result
    partial = [line for line in done.stdout.splitlines() if line.startswith("PARTIAL ")]
    raise SystemExit(f"{mode} N={n} failed (measured: {partial}):\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--throttled", type=int, nargs="*", default=[100])
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (else SQLite files)")
    parser.add_argument("--workers", type=int, nargs="*", default=[],
                        help="worker process counts: the production topology (needs --postgres; "
                             "N = the first --n)")  # fmt: skip
    parser.add_argument("--vpn", type=int, choices=[0, 2, 3, 4], default=0,
                        help="VPN breakouts of this type instead of TGW ones")  # fmt: skip
    parser.add_argument("--child", choices=["plain", "throttled"], help=argparse.SUPPRESS)
    parser.add_argument("--child-workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-throttled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_workers:
        result = workers_mode.child(args.child_workers, args.child_throttled, args.n[0],
                                    args.timeout, args.postgres)  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)
        return
    if args.child:
        result = child(args.child, args.n[0], args.timeout, args.postgres, args.vpn)
        print("RESULT " + json.dumps(result), flush=True)
        return
    if args.workers:
        if not args.postgres:
            raise SystemExit("--workers needs --postgres URL: workers share one database")
        workers_mode.report(args.workers, args.n[0], args.timeout, args.postgres)
        return
    print(f"databases: {'PostgreSQL' if args.postgres else 'SQLite (WAL)'}")
    if args.vpn:
        _report_vpn(args.vpn, args.n, args.throttled, args.timeout, args.postgres)
        return
    _report(args.n, args.throttled, args.timeout, args.postgres)


def _report_vpn(vpn: int, ns: list[int], throttled: list[int], timeout: float, postgres: str
                ) -> None:  # fmt: skip
    print(f"VPN breakouts of type {vpn}, request -> Active")
    print("| N | mode | wall s | lower bound s | wall / bound | breakouts/s | CPU s per breakout "
          "| user errors | workflow errors | AWS calls per breakout |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, n in [*(("plain", n) for n in ns), *(("throttled", n) for n in throttled)]:
        r = _measure(mode, n, timeout, postgres, vpn)
        wall = r["wall"]
        bound = lower_bound(n, vpn) if mode == "throttled" else 0.0
        ratio = f"{wall / bound:.2f}" if bound else "n/a"
        print(f"| {n} | {mode} | {wall:.1f} | {bound:.1f} | {ratio} | {n / wall:.2f} | "
              f"{r['cpu'] / n:.3f} | {r['errors']} | {r['workflow_errors']} | "
              f"{r['calls'] / n:.1f} |", flush=True)  # fmt: skip


def _report_cpu(rows: list[dict[str, Any]]) -> None:
    """Where the CPU went, and the best ratio that CPU allows on this machine's cores.

    linkplane's wall time cannot be below its own process's CPU (one interpreter), the cloud
    process's CPU, or all of it spread over the cores; the script's wall time is measured.
    """
    cores = os.cpu_count() or 1
    print(f"\nCPU s per breakout ({cores} cores; the cloud is its own process)")
    print("| N | linkplane process | cloud, for linkplane | script process | cloud, for the script "
          "| linkplane's floor s | ratio ceiling |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        n, own, cloud = r["n"], r["cpu"], r["cloud_cpu"]
        floor = max(own, cloud, (own + cloud) / cores)
        print(f"| {n} | {own / n:.3f} | {cloud / n:.3f} | {r['baseline_cpu'] / n:.3f} | "
              f"{r['baseline_cloud_cpu'] / n:.3f} | {floor:.1f} | {r['baseline'] / floor:.2f} |",
              flush=True)  # fmt: skip


def _report(ns: list[int], throttled: list[int], timeout: float, postgres: str) -> None:
    if ns:
        print("| N | linkplane s | linkplane /s | CPU s per breakout | baseline s "
              "| baseline /s | ratio | user errors | workflow errors "
              "| AWS calls per breakout (linkplane / script) "
              "| create p50 s | create p99 s |")  # fmt: skip
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    for n in ns:
        r = _measure("plain", n, timeout, postgres)
        rows.append(r)
        wall, base = r["wall"], r["baseline"]
        print(f"| {n} | {wall:.1f} | {n / wall:.2f} | {r['cpu'] / n:.3f} | {base:.1f} | "
              f"{n / base:.2f} | {base / wall:.2f} | {r['errors']} | {r['workflow_errors']} | "
              f"{r['calls'] / n:.1f} / {r['baseline_calls'] / n:.1f} | "
              f"{r['create_p50']:.3f} | {r['create_p99']:.3f} |", flush=True)  # fmt: skip
    if rows:
        _report_cpu(rows)
    if not throttled:
        return
    print("\nthrottled (embedded cloud enforces EC2 buckets: mutating 50 + 5/s, reads 100 + 20/s)")
    print("| N | wall s | lower bound s | wall / bound | breakouts/s | user errors "
          "| workflow errors | AWS calls per breakout | create p50 s | create p99 s |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in throttled:
        r = _measure("throttled", n, timeout, postgres)
        wall, bound = r["wall"], lower_bound(n)
        ratio = f"{wall / bound:.2f}" if bound else "n/a (within burst)"
        print(f"| {n} | {wall:.1f} | {bound:.1f} | {ratio} | {n / wall:.2f} | {r['errors']} | "
              f"{r['workflow_errors']} | {r['calls'] / n:.1f} | {r['create_p50']:.3f} | "
              f"{r['create_p99']:.3f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
