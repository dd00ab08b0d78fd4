"""Worker processes and a scripted customer for the crash, scale and upgrade tests.

The tests run the embedded cloud over HTTP in the test process and the workflows in worker
processes started from here (``python -m tests.test_breakouts_faults_support ...``), sharing
one data directory (SQLite application + DBOS system databases). A worker is the real engine
(the durable runtime as ``linkplane worker`` builds it) plus, only when asked on its command
line, a test hook that ends the process with ``os._exit`` at a chosen step boundary: after a
step's result was recorded (``--crash-mode after``) or inside an AWS step after its call
returned but before DBOS recorded it (``--crash-mode inside``), at the first boundary its
``--crash-chain`` file does not list yet (of the step names ``--crash-only`` matches, if
given: e.g. only the sweep's rerouting of a breakout). The boundaries are the
``steps.cloud``/``steps.db`` steps and the isolation step "update core policy" (a routing
hook) that ends provisioning, every teardown and a sweep that moved routes;
``--fail-load`` makes the first step fail instead. Nothing in ``linkplane`` knows about the
hook.

Importing this module starts nothing (pytest collects it; it holds no tests).
"""

from __future__ import annotations

import argparse
import contextvars
import gc
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from linkplane.settings import Settings

if TYPE_CHECKING:
    from linkplane.durable.runtime import Runtime
    from linkplane.tenancy.principal import Principal

PROVIDER = "111111111111"
REGION = "eu-central-1"
CRASH_EXIT = 137  # what a SIGKILLed process reports to a shell; os._exit uses it here


# --- the worker process -----------------------------------------------------------------------
class _Chain:
    """The steps a crash chain already died at, in a file shared by its worker processes:
    each process dies at the first boundary not yet listed, so the processes of one chain
    visit every boundary of one breakout's run once."""

    def __init__(self, path: Path, only: str = "") -> None:
        self.path = path
        self.only = re.compile(only) if only else None

    def first_time(self, key: str) -> bool:
        if self.only is not None and not self.only.fullmatch(key):
            return False  # not a boundary this chain visits (``--crash-only``)
        seen = self.path.read_text().splitlines() if self.path.exists() else []
        if key in seen:
            return False
        with self.path.open("a") as f:
            f.write(key + "\n")
        return True


def _die(name: str) -> None:
    print(f"crash at {name}", flush=True)
    os._exit(CRASH_EXIT)


def _crash_hooks(chain: _Chain, mode: str) -> None:
    """Wrap ``steps.cloud``/``steps.db``/``steps.compound``: die after the first new step
    whose result DBOS recorded (``after``), or inside the first new AWS step once its call
    returned, before DBOS could record it (``inside``). Replayed steps never call their
    function, so only steps this process executes count."""
    from linkplane.durable import steps

    def wrap(original: Callable[..., Any], aws: bool) -> Callable[..., Any]:
        async def step(rt: Any, name: str, *args: Any) -> Any:
            call, executed = args[-1], []

            def observed(arg: Any) -> Any:
                result = call(arg)
                executed.append(name)
                if mode == "inside" and aws and chain.first_time(name):
                    _die(f"inside {name}")
                return result

            result = await original(rt, name, *args[:-1], observed)
            if mode == "after" and executed and chain.first_time(name):
                _die(f"after {name}")
            return result

        return step

    steps.cloud = wrap(steps.cloud, True)
    steps.db = wrap(steps.db, False)
    # A compound step's AWS calls and records all ran when ``inside`` dies: the run again
    # must find both done (idempotent AWS calls, records that check the row).
    steps.compound = wrap(steps.compound, True)
    if mode == "after":  # not an AWS step: nothing to die inside of
        _policy_hook(chain)


#: The "update core policy" calls of the current workflow task (``asyncio.to_thread`` copies
#: the context, so the pool thread appends to the list its own task set).
_applied: contextvars.ContextVar[list[str]] = contextvars.ContextVar("applied")


def _policy_hook(chain: _Chain) -> None:
    """Die after the first "update core policy" this process executed and DBOS recorded.
    The hook observes ``apply_core_policy`` (looked up at each call by the registered
    routing hook) and wraps ``steps.routing_changed`` (what the workflows call)."""
    from linkplane.durable import steps
    from linkplane.isolation import steps as isolation

    name, apply = isolation.STEP, isolation.apply_core_policy
    original = steps.routing_changed

    def observed(**kwargs: Any) -> str:
        result = apply(**kwargs)
        _applied.get([]).append(name)  # called outside ``step``: nobody to tell
        return result

    async def step(rt: Any) -> None:
        _applied.set([])  # this task's own context: concurrent workflows do not share it
        await original(rt)
        if _applied.get() and chain.first_time(name):
            _die(f"after {name}")

    isolation.apply_core_policy = observed  # type: ignore[assignment]
    steps.routing_changed = step


def _fail_load(times: int, kind: str) -> None:
    """The first ``times`` "load" steps of this process fail: ``timeout`` once, as a pool
    timeout in a burst does (the step's retry should absorb it); ``bug`` on every attempt,
    with an error nothing expects (the workflow ends in ERROR)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from linkplane.durable import steps

    original, left = steps.db, [times]

    async def step(rt: Any, name: str, *args: Any) -> Any:
        if name != "load" or left[0] <= 0:
            return await original(rt, name, *args)
        left[0] -= 1
        change, attempts = args[-1], []

        def failing(session: Any) -> Any:
            attempts.append(1)
            if kind == "bug" or len(attempts) == 1:
                if kind == "bug":
                    raise RuntimeError("an unexpected error in the first step (test)")
                raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached (test)")
            return change(session)

        return await original(rt, name, *args[:-1], failing)

    steps.db = step


def _computed_version() -> str:
    """DBOS's hash of the registered workflow code (what an unpinned deploy would use)."""
    from dbos._dbos import _get_dbos_instance

    registry = _get_dbos_instance()._registry  # read-only diagnostics
    return str(registry.compute_app_version("linkplane"))


def _register_changed_code() -> None:
    """A code change, as a deploy would bring: one more workflow, so DBOS's hash differs."""
    from linkplane.durable.runtime import workflow

    @workflow("breakout.upgrade_marker")
    async def upgrade_marker() -> str:  # registered only; never run
        return "v2"


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _create_rows(factory: Any, settings: Settings, org_id: int, first: int, n: int) -> list[int]:
    """``n`` breakouts (accounts and /24s numbered from ``first``), committed 50 at a time."""
    from linkplane.attachments import service
    from linkplane.attachments.schemas import BreakoutTgwCreate
    from linkplane.db import transaction
    from linkplane.tenancy.principal import Principal, Role

    principal = Principal(user_id=1, org_id=org_id, role=Role.ADMIN)
    ids: list[int] = []
    for start in range(first, first + n, 50):
        with transaction(factory) as session:
            for k in range(start, min(start + 50, first + n)):
                data = BreakoutTgwCreate(
                    name=f"park-{k}", vpc_cidr=[f"172.{16 + k // 256}.{k % 256}.0/24"],
                    region=REGION, aws_account_id=f"{500000000000 + k}",
                )  # fmt: skip
                row = service.create_tgw(session=session, settings=settings,
                                         principal=principal, data=data)  # fmt: skip
                ids.append(row.id)
    return ids


def _waiting(settings: Settings, ids: list[int]) -> int:
    """How many of ``ids`` are in the wait for the invitation's acceptance: they polled it,
    or (with the shared watch on, sequence 2 waits before its first poll) a wait began."""
    from linkplane.durable.config import system_database_url

    wanted = {f"breakout-{i}-1" for i in ids}
    engine = sa.create_engine(system_database_url(settings))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT DISTINCT workflow_uuid FROM operation_outputs "
                "WHERE function_name IN ('invitation_status', 'DBOS.sleep')")).all()  # fmt: skip
    finally:
        engine.dispose()
    return len(wanted & {r[0] for r in rows})


def _park(rt: Runtime, org_id: int, counts: list[int]) -> None:
    """Park breakouts up to each count, then print threads and RSS as one JSON line each."""
    from linkplane.attachments.workflows.messages import start_provisioning

    settings, factory = rt.settings, rt.sessions
    ids: list[int] = []
    for count in counts:
        new = _create_rows(factory, settings, org_id, len(ids), count - len(ids))
        for bid in new:
            start_provisioning(rt.client, bid, 1)
        ids += new
        while _waiting(settings, ids) < len(ids):
            time.sleep(0.5)  # polling the database for progress, not dodging a race
        gc.collect()
        print(json.dumps({"parked": len(ids), "threads": _threads(), "rss_kib": _rss_kib(),
                          "py_threads": threading.active_count()}), flush=True)  # fmt: skip


def _hold_starts(rt: Any) -> None:
    """The background thread's starts block forever: the process dies with them unmade."""
    from linkplane.durable.client import BackgroundStarts

    assert isinstance(rt.client, BackgroundStarts)
    held = threading.Event()
    rt.client.inner = type("Held", (), {"start": lambda *_: held.wait()})()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--crash-chain", type=Path, help="file of boundaries already visited")
    parser.add_argument("--crash-mode", choices=["after", "inside"], default="after")
    parser.add_argument("--crash-only", default="",
                        help="a regular expression: only step names it matches are boundaries")
    parser.add_argument("--start", type=int, action="append", default=[])
    parser.add_argument("--delete", type=int, action="append", default=[],
                        help="start the deletion workflow (after ProcStack.delete)")  # fmt: skip
    parser.add_argument("--park", default="", help="counts, e.g. 100,2000")
    parser.add_argument("--org", type=int, default=0)
    parser.add_argument("--changed-code", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="run the periodic sweep")
    parser.add_argument("--hold-starts", action="store_true",
                        help="background starts never reach DBOS")  # fmt: skip
    parser.add_argument("--fail-load", type=int, default=0, help="the first N 'load' steps fail")
    parser.add_argument("--fail-with", choices=["timeout", "bug"], default="timeout")
    args = parser.parse_args(argv)

    from linkplane.attachments.workflows import messages
    from linkplane.context import load_settings, open_context
    from linkplane.durable.runtime import Runtime
    from linkplane.process import hooks

    settings = load_settings(args.data_dir)
    ctx = open_context(settings)
    if args.crash_chain:
        _crash_hooks(_Chain(args.crash_chain, args.crash_only), args.crash_mode)
    if args.changed_code:
        _register_changed_code()
    if args.fail_load:
        _fail_load(args.fail_load, args.fail_with)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rt = Runtime.build(settings, ctx.sessionmaker)
    hooks.install_workflows(rt, sweep=args.sweep)
    rt.launch()
    if args.hold_starts:
        _hold_starts(rt)
    print(json.dumps({"executor": rt.executor_id,
                      "pinned": settings.dbos_application_version,
                      "computed": _computed_version()}), flush=True)  # fmt: skip
    for bid in args.start:
        messages.start_provisioning(rt.client, bid, 1)
    for bid in args.delete:
        messages.start_teardown(rt.client, bid, 1)
    if args.park:
        _park(rt, args.org, [int(c) for c in args.park.split(",")])
    try:
        stop.wait()
    finally:
        rt.shutdown()
        ctx.close()


# --- the test side ----------------------------------------------------------------------------
def worker_env(
    endpoint: str, executor_id: str, provider: str = PROVIDER, **settings: object
) -> dict[str, str]:
    """Environment of a worker: the embedded cloud, fast polls, a fixed executor id (so a
    restart recovers at once), and no dead-executor recovery between the tests' workers."""
    env = dict(os.environ)
    values: dict[str, object] = {
        "cloud": "embedded", "aws_endpoint_url": endpoint, "provider_account_id": provider,
        "workflow_queue_polling_seconds": 0.1,
        "breakout_poll_initial_seconds": 0.1, "breakout_poll_max_seconds": 0.5,
        "breakout_watched_poll_max_seconds": 0.5,
        "breakout_step_retry_seconds": 0.05, "breakout_step_max_attempts": 3,
        "aws_max_attempts": 4, "aws_backoff_base_seconds": 0.01,
        "dbos_executor_id": executor_id, "executor_heartbeat_seconds": 1,
        "executor_dead_after_seconds": 3600, **settings,
    }  # fmt: skip
    env.update({f"LINKPLANE_{k.upper()}": str(v) for k, v in values.items()})
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION})  # fmt: skip
    return env


@dataclass
class Worker:
    proc: subprocess.Popen[str]

    def stop(self) -> int:
        """SIGTERM and wait: a clean shutdown (DBOS destroyed, waits stay recorded)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)

    def lines(self) -> Iterator[str]:
        assert self.proc.stdout is not None
        yield from self.proc.stdout


def spawn(data_dir: Path, env: dict[str, str], *args: str) -> Worker:
    cmd = [sys.executable, "-m", "tests.test_breakouts_faults_support",
           "--data-dir", str(data_dir), *args]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    log = (data_dir / f"worker-{env.get('LINKPLANE_DBOS_EXECUTOR_ID', 'x')}.log").open("a")
    with log:  # the child keeps its own descriptor; its stderr is there for post-mortems
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=log, text=True)  # fmt: skip
    return Worker(proc)


@contextmanager
def running(data_dir: Path, env: dict[str, str], *args: str) -> Iterator[Worker]:
    worker = spawn(data_dir, env, *args)
    try:
        yield worker
    finally:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


class Customer:
    """One customer account acting as soon as it can: accept the invitation, then attach."""

    def __init__(self, endpoint: str, account: str, tgw_id: str, cidr: str) -> None:
        from linkplane.localcloud.accounts import session_for

        session = session_for(account, region=REGION, endpoint_url=endpoint)
        self.ram = session.client("ram", endpoint_url=endpoint)
        self.ec2 = session.client("ec2", endpoint_url=endpoint)
        self.tgw_id, self.cidr = tgw_id, cidr
        self.accepted = False
        self.attachment: str | None = None

    def act(self) -> None:
        """One round: accept a pending invitation, or attach once accepted (each only once)."""
        if not self.accepted:
            found = self.ram.get_resource_share_invitations()["resourceShareInvitations"]
            pending = [i for i in found if i["status"] == "PENDING"]
            for inv in pending:
                self.ram.accept_resource_share_invitation(
                    resourceShareInvitationArn=inv["resourceShareInvitationArn"]
                )
            self.accepted = bool(pending)
        elif self.attachment is None:
            self.attachment = self._attach()

    def _attach(self) -> str:
        vpc = self.ec2.create_vpc(CidrBlock=self.cidr)["Vpc"]["VpcId"]
        subnet = self.ec2.create_subnet(VpcId=vpc, CidrBlock=self.cidr)["Subnet"]["SubnetId"]
        att = self.ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=self.tgw_id, VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]
        return str(att["TransitGatewayAttachmentId"])


def drive_until(
    customers: list[Customer],
    done: Callable[[], bool],
    *,
    worker: Worker | None = None,
    timeout: float = 120,
) -> None:
    """Let the customers act until ``done()``; polls (the workers run in other processes).
    Fails at once if ``worker`` dies meanwhile."""
    end = time.monotonic() + timeout
    while not done():
        if worker is not None and worker.proc.poll() is not None:
            raise AssertionError(f"worker exited with {worker.proc.returncode}")
        if time.monotonic() > end:
            raise AssertionError("timed out driving the customers")
        for customer in customers:
            customer.act()
        time.sleep(0.05)


@dataclass
class ProcStack:
    """A data directory, bootstrapped region and organisation for worker processes."""

    data_dir: Path
    endpoint: str
    settings: Settings
    factory: Any
    tgw_id: str
    org_id: int
    core_vpc_id: str
    provider: str
    worker_settings: dict[str, object] = field(default_factory=dict)

    def env(self, executor_id: str, **settings: object) -> dict[str, str]:
        return worker_env(self.endpoint, executor_id, self.provider,
                          **{**self.worker_settings, **settings})  # fmt: skip

    def create(self, account: str, cidrs: list[str]) -> int:
        """A breakout row in status 1 (its workflow is started by a worker, ``--start``)."""
        from linkplane.attachments import service
        from linkplane.attachments.schemas import BreakoutTgwCreate
        from linkplane.db import transaction

        data = BreakoutTgwCreate(name="crash", vpc_cidr=cidrs, region=REGION,
                                 aws_account_id=account)  # fmt: skip
        with transaction(self.factory) as session:
            row = service.create_tgw(session=session, settings=self.settings,
                                     principal=self._admin(), data=data)  # fmt: skip
            return int(row.id)

    def create_vpn(self, public_ip: str, cidrs: list[str], public_ip_2: str = "") -> int:
        """A VPN breakout row in status 1 (started by a worker, ``--start``): static, or
        BGP HA (type 4) when ``public_ip_2`` is given."""
        from linkplane.attachments import service
        from linkplane.attachments.schemas import BreakoutVpnCreate
        from linkplane.db import transaction

        ha = {"type": 4, "public_ip_2": public_ip_2, "asn": 65030} if public_ip_2 else {}
        data = BreakoutVpnCreate.model_validate({
            "type": 2, "name": "crash-vpn", "region": REGION, "public_ip": public_ip,
            "on_prem_cidr": cidrs, **ha})  # fmt: skip
        with transaction(self.factory) as session:
            row = service.create_vpn(session=session, settings=self.settings,
                                     principal=self._admin(), data=data)  # fmt: skip
            return int(row.id)

    def vpn_left(self, breakout_id: int, cidr: str) -> dict[str, int]:
        """What the cloud holds of a VPN breakout: its customer gateways and connections (by
        the breakout tag), their live attachments, associations and static routes."""
        from linkplane.localcloud.accounts import session_for

        session = session_for(self.provider, region=REGION, endpoint_url=self.endpoint)
        ec2 = session.client("ec2", endpoint_url=self.endpoint)
        tag = {"Key": "linkplane:breakout", "Value": str(breakout_id)}
        gone = {"deleting", "deleted"}

        def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [i for i in items if i["State"] not in gone]

        cgws = [g for g in live(ec2.describe_customer_gateways()["CustomerGateways"])
                if tag in g.get("Tags", [])]  # fmt: skip
        vpns = {v["VpnConnectionId"] for v in live(
            ec2.describe_vpn_connections()["VpnConnections"]) if tag in v.get("Tags", [])}
        atts = [a for a in live(ec2.describe_transit_gateway_attachments()[
            "TransitGatewayAttachments"]) if a["ResourceId"] in vpns]  # fmt: skip
        ids = {a["TransitGatewayAttachmentId"] for a in atts}
        assoc = [a for a in atts if a.get("Association", {}).get("State") == "associated"]
        tables = ec2.describe_transit_gateway_route_tables(Filters=[
            {"Name": "transit-gateway-id", "Values": [self.tgw_id]}])["TransitGatewayRouteTables"]
        static = [{"Name": "type", "Values": ["static"]}]
        routes = [r for t in tables for r in ec2.search_transit_gateway_routes(
            TransitGatewayRouteTableId=t["TransitGatewayRouteTableId"], Filters=static)["Routes"]
            if r["DestinationCidrBlock"] == cidr or {
                x.get("TransitGatewayAttachmentId") for x in
                r.get("TransitGatewayAttachments", [])} & ids]  # fmt: skip
        return {"customer_gateways": len(cgws), "vpn_connections": len(vpns),
                "attachments": len(atts), "associations": len(assoc),
                "routes": len(routes)}  # fmt: skip

    def delete(self, breakout_id: int) -> str:
        """Request the deletion as ``commands.delete_breakout`` does (status 6, committed);
        returns what must follow: ``teardown`` (a worker starts the deletion workflow,
        ``--delete``) or ``signal`` (the provisioning workflow still runs)."""
        from linkplane.attachments import service
        from linkplane.db import transaction

        with transaction(self.factory) as session:
            _, action = service.request_delete(session=session, principal=self._admin(),
                                               breakout_id=breakout_id)  # fmt: skip
        return str(action)

    def _admin(self) -> Principal:
        from linkplane.tenancy.principal import Principal, Role

        return Principal(user_id=1, org_id=self.org_id, role=Role.ADMIN)

    def row(self, breakout_id: int) -> Any:
        from linkplane.attachments.models import Breakout

        with self.factory() as session:
            return session.get(Breakout, breakout_id)

    def status(self, breakout_id: int) -> int:
        return int(self.row(breakout_id).status_id)

    def problems(self, breakout_id: int) -> list[str]:
        """The breakout's events a user sees as problems (severity above 0, e.g.
        "Compensation ... failed")."""
        from linkplane.events.models import Event

        stmt = sa.select(Event.description).where(
            Event.entity_type == "breakout", Event.entity_id == breakout_id, Event.severity > 0
        )
        with self.factory() as session:
            return list(session.scalars(stmt))

    def history(self, breakout_id: int) -> list[str]:
        """The breakout's events in order: each status change as "-> <status id>", each note
        by its description (a step run again after a crash must not record it twice)."""
        from linkplane.events.models import Event

        stmt = sa.select(Event.description, Event.detail).where(
            Event.entity_type == "breakout", Event.entity_id == breakout_id).order_by(Event.id)
        with self.factory() as session:
            rows = [(text, json.loads(raw or "{}")) for text, raw in session.execute(stmt)]
        return [f"-> {d['to']}" if "to" in d else text for text, d in rows]

    def workflow_status(self, workflow_id: str) -> str | None:
        """DBOS's status of a workflow (PENDING, SUCCESS, ERROR...), read from its database."""
        from linkplane.durable.config import system_database_url

        engine = sa.create_engine(system_database_url(self.settings))
        try:
            with engine.connect() as conn:
                found = conn.execute(sa.text(
                    "SELECT status FROM workflow_status WHERE workflow_uuid = :w"),
                    {"w": workflow_id}).scalar()  # fmt: skip
        except sa.exc.OperationalError:  # no worker has created DBOS's tables yet
            return None
        finally:
            engine.dispose()
        return None if found is None else str(found)

    def vpc_routes_to(self, cidr: str) -> int:
        """Routes for ``cidr`` in the core VPC's main table (not part of the TGW inventory)."""
        from linkplane.cloud.factory import make_cloud

        port = make_cloud(self.settings, REGION)
        table = port.main_route_table_id(self.core_vpc_id)
        return sum(1 for r in port.vpc_routes(table) if r.cidr == cidr)


def _org(factory: Any) -> int:
    from linkplane.db import transaction
    from linkplane.tenancy.models import Organisation

    with transaction(factory) as session:
        org = Organisation(name="breakout-faults")
        session.add(org)
        session.flush()
        return int(org.id)


_providers = itertools.count(111111110001)


def proc_stack(data_dir: Path, provider: str | None = None, peer_with: str = "") -> ProcStack:
    """Bootstrap the test region into a fresh data directory; no DBOS in this process.

    With ``peer_with`` (a region), that region too, each with its pool of
    :data:`PEER_POOLS`, peered; the organisation's devices break out there (a service
    profile), so its TGW breakouts route over the peering.

    The embedded cloud is the test process's one server (shared with the in-process stack of
    ``tests.test_breakouts_support``); each data directory gets its own provider account
    unless ``provider`` is given (two installations in one account: their installation ids
    keep their TGWs and shares apart).
    """
    provider = provider or str(next(_providers))
    from linkplane.attachments.regions import region_info
    from linkplane.cloud.factory import make_cloud
    from linkplane.context import open_context
    from linkplane.regions import service as regions
    from tests.test_breakouts_support import _cloud

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    endpoint = _cloud().endpoint_url
    pools = {"region_device_pools": PEER_POOLS} if peer_with else {}
    settings = Settings(data_dir=data_dir, cloud="embedded", aws_endpoint_url=endpoint,
                        provider_account_id=provider, **pools)  # type: ignore[arg-type]
    ctx = open_context(settings)
    for name in (REGION, peer_with) if peer_with else (REGION,):
        regions.bootstrap(factory=ctx.sessionmaker, cloud=make_cloud(settings, name),
                          settings=settings, region=name)  # fmt: skip
    with ctx.sessionmaker() as session:
        info = region_info(session=session, name=REGION)
    assert info is not None
    org = _org(ctx.sessionmaker)
    if peer_with:
        _peer_for(ctx.sessionmaker, settings, org, peer_with)
    return ProcStack(data_dir, endpoint, settings, ctx.sessionmaker, info.tgw_id, org,
                     info.core_vpc_id, provider,
                     {"region_device_pools": json.dumps(PEER_POOLS)} if peer_with else {})


def _peer_for(factory: Any, settings: Settings, org: int, region: str) -> None:
    """Peer the test region with ``region``, where ``org``'s devices break out."""
    from linkplane.cloud.factory import make_cloud
    from linkplane.db import transaction
    from linkplane.profiles.models import ServiceProfile
    from linkplane.regions import peering

    peering.peer(factory=factory, cloud=make_cloud(settings, REGION), settings=settings,
                 region=REGION, peer_region=region)  # fmt: skip
    with transaction(factory) as session:
        session.add(ServiceProfile(org_id=org, name=f"devices in {region}",
                                   breakout_region=region))  # fmt: skip


def owned(inv: Any, account: str, breakout_id: int, cidrs: list[str]) -> dict[str, list[Any]]:
    """The records of one breakout in an inventory (many run at once against one cloud): its
    shares (by name or principal), its customer's attachments, their associations and
    propagations, and routes to those attachments or to its CIDRs."""
    arns = {p.share_arn for p in inv.principal_associations if p.principal == account}
    # linkplane-<installation id>-breakout-<id>-r<rev> (no installation id before 0007)
    name = re.compile(rf"linkplane-([a-z0-9]+-)?breakout-{breakout_id}-r\d+")
    shares = [s for s in inv.shares if s.arn in arns or name.fullmatch(s.name)]
    arns |= {s.arn for s in shares}
    atts = [a for a in inv.attachments if a.resource_owner_id == account]
    ids = {a.id for a in atts}
    return {
        "shares": shares,
        "principal_associations": [p for p in inv.principal_associations if p.share_arn in arns],
        "attachments": atts,
        "associations": [a for a in inv.associations if a.attachment_id in ids],
        "propagations": [p for p in inv.propagations if p.attachment_id in ids],
        "routes": [r for r in inv.routes if set(r.attachment_ids) & ids or r.destination in cidrs],
    }


def counts(records: dict[str, list[Any]]) -> dict[str, int]:
    return {kind: len(found) for kind, found in records.items()}


#: One Active breakout with one CIDR owns exactly this much.
ACTIVE_ONE_CIDR = {"shares": 1, "principal_associations": 1, "attachments": 1,
                   "associations": 1, "propagations": 0, "routes": 1}  # fmt: skip
NOTHING = dict.fromkeys(ACTIVE_ONE_CIDR, 0)


def inventory(endpoint: str, account: str, provider: str = PROVIDER) -> Any:
    from linkplane.localcloud.inventory import snapshot

    return snapshot(endpoint, [provider, account], [REGION])



# --- region peering (``linkplane region peer``), for the fault and crash matrices -------------
PEER_A, PEER_B = REGION, "eu-west-1"
PEER_POOLS = {PEER_A: "100.64.0.0/12", PEER_B: "100.80.0.0/12"}


@dataclass
class PeerStack:
    """Two regions bootstrapped in a provider account of their own (faults and kills aimed at
    it hit no other test's breakout), with their own device pools, not peered yet."""

    settings: Settings
    factory: Any
    provider: str

    def cloud(self, region: str = PEER_A) -> Any:
        from linkplane.cloud.factory import make_cloud

        return make_cloud(self.settings, region)

    def peer(self) -> Any:
        from linkplane.regions import peering

        return peering.peer(factory=self.factory, cloud=self.cloud(), settings=self.settings,
                            region=PEER_A, peer_region=PEER_B,
                            sleep=lambda _s: time.sleep(0.01))  # fmt: skip

    def run_unpeer(self, dependents: Any = None) -> list[str]:
        """``linkplane region unpeer`` as the command runs it (no breakout depends on it
        unless ``dependents`` says so)."""
        from linkplane.regions import peering

        return peering.unpeer(factory=self.factory, cloud=self.cloud(), settings=self.settings,
                              region=PEER_A, peer_region=PEER_B,
                              dependents=dependents or (lambda _s, _a, _b: []),
                              sleep=lambda _s: time.sleep(0.01))  # fmt: skip

    def unpeer(self) -> None:
        """Back to bootstrapped and never peered, the next case's start: unpeer, then the
        peering tables go too (unpeer keeps them for a next peering; a first run makes them)."""
        from linkplane.db import transaction
        from linkplane.regions import peering
        from linkplane.regions.models import Region

        if self.stored_peerings():
            peering.unpeer(factory=self.factory, cloud=self.cloud(), settings=self.settings,
                           region=PEER_A, peer_region=PEER_B, dependents=lambda _s, _a, _b: [],
                           sleep=lambda _s: time.sleep(0.01))  # fmt: skip
        for name, row in self.regions().items():
            regional = self.cloud(name)
            for att in regional.list_attachments(tgw_id=row.tgw_id, resource_type="peering"):
                regional.delete_peering_attachment(att.id)  # left by a killed run
            for table in regional.find_route_tables(tgw_id=row.tgw_id):
                if table.id not in (row.core_route_table_id, row.customers_route_table_id):
                    for assoc in regional.route_table_associations(table.id):
                        regional.disassociate_route_table(route_table_id=table.id,
                                                          attachment_id=assoc.attachment_id)
                    regional.delete_route_table(table.id)
            for cidr in set(PEER_POOLS.values()) - {PEER_POOLS[name]}:
                regional.delete_static_route(route_table_id=row.customers_route_table_id,
                                             cidr=cidr)  # fmt: skip
        with transaction(self.factory) as session:
            session.execute(sa.update(Region).values(peering_route_table_id=None))

    def regions(self) -> dict[str, Any]:
        from linkplane.regions.models import Region

        with self.factory() as session:
            rows = session.scalars(sa.select(Region)).all()
            session.expunge_all()
        return {r.name: r for r in rows}

    def stored_peerings(self) -> list[tuple[str, str, str, str]]:
        from linkplane.regions import peering

        with self.factory() as session:
            return [(p.region, p.peer_region, p.attachment_id, p.state)
                    for p in peering.list_peerings(session=session)]  # fmt: skip

    def state(self) -> dict[str, Any]:
        """Both regions' live peering attachments (id, state), and every association and
        static route of their TGW tables, by table role."""
        out: dict[str, Any] = {}
        for name, row in self.regions().items():
            regional = self.cloud(name)
            out[f"{name} peerings"] = sorted(
                (a.id, a.state) for a in regional.list_attachments(tgw_id=row.tgw_id,
                                                                   resource_type="peering")
                if a.state not in {"deleting", "deleted", "rejected", "failed"})  # fmt: skip
            for table in regional.find_route_tables(tgw_id=row.tgw_id):
                routes = [(r.cidr, r.attachment_ids) for r in regional.search_routes(table.id)
                          if r.type == "static"]  # fmt: skip
                assoc = [a.attachment_id for a in regional.route_table_associations(table.id)]
                out[f"{name} {table.id}"] = (sorted(assoc), sorted(routes))
        return out

    def peered(self) -> dict[str, Any]:
        """What exactly one available peering and its routes look like in :meth:`state`."""
        rows, (stored,) = self.regions(), self.stored_peerings()
        att = stored[2]
        out: dict[str, Any] = {}
        for here, there in ((PEER_A, PEER_B), (PEER_B, PEER_A)):
            row = rows[here]
            out[f"{here} peerings"] = [(att, "available")]
            out[f"{here} {row.core_route_table_id}"] = ([row.core_attachment_id], [])
            out[f"{here} {row.customers_route_table_id}"] = ([], sorted([
                (PEER_POOLS[here], (row.core_attachment_id,)), (PEER_POOLS[there], (att,))]))
            out[f"{here} {row.peering_route_table_id}"] = (
                [att], [(PEER_POOLS[here], (row.core_attachment_id,))])
        return out


    def unpeered(self) -> dict[str, Any]:
        """What :meth:`state` shows after ``region unpeer``: no peering, no route to the
        other region's pool; the peering tables stay (unassociated, with their own pool's
        route) for a next peering."""
        out: dict[str, Any] = {}
        for here, row in self.regions().items():
            own = (PEER_POOLS[here], (row.core_attachment_id,))
            out[f"{here} peerings"] = []
            out[f"{here} {row.core_route_table_id}"] = ([row.core_attachment_id], [])
            out[f"{here} {row.customers_route_table_id}"] = ([], [own])
            out[f"{here} {row.peering_route_table_id}"] = ([], [own])
        return out


def peer_stack(data_dir: Path) -> PeerStack:
    """Bootstrap both regions of :data:`PEER_POOLS` in a new provider account."""
    from linkplane.context import open_context
    from linkplane.regions import service as regions
    from tests.test_breakouts_support import _cloud, make_settings

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    provider = str(next(_providers))
    settings = make_settings(data_dir, _cloud().endpoint_url, region_device_pools=PEER_POOLS
                             ).model_copy(update={"provider_account_id": provider})
    ctx = open_context(settings)
    stack = PeerStack(settings, ctx.sessionmaker, provider)
    for name in PEER_POOLS:
        regions.bootstrap(factory=ctx.sessionmaker, cloud=stack.cloud(name), settings=settings,
                          region=name)  # fmt: skip
    return stack

if __name__ == "__main__":
    main()
