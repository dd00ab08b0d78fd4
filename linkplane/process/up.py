"""``linkplane up``: the embedded cloud, the API and the workers in one process; the
composition root of the laptop default.

Order: embedded cloud -> database -> startup steps -> API -> ``runtime.json`` -> wait for
Ctrl-C/SIGTERM -> stop everything in reverse -> exit 0.

Startup steps are a small explicit list (:func:`startup_steps`). Each is a named function
taking the :class:`UpContext`; it may add lines to the banner (``notes``) and register what
must run at shutdown (``on_stop``). Features plug in by adding their call to their step:
tenancy (:func:`seed_demo_org`), the fleet (:func:`seed_demo_fleet`), the workflows
(:func:`launch_workers`: the same durable runtime and hooks as ``linkplane worker``).

The embedded cloud's state is snapshotted into the data dir every
``cloud_snapshot_seconds`` and at shutdown, and loaded at start
(:mod:`linkplane.localcloud.snapshot`), so breakouts keep their TGW, shares and attachments
across a restart or a ``kill -9`` (losing at most the last interval). Without a usable
snapshot the stored region points at resources that no longer exist; bootstrap notices (it
describes the stored TGW) and builds the region again, and ``up`` says so.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from linkplane.cloud.budget import process_limiter
from linkplane.cloud.factory import make_cloud
from linkplane.cloud.port import CloudPort
from linkplane.context import (
    AppContext,
    clear_runtime,
    load_settings,
    open_context,
    read_runtime,
    write_runtime,
)
from linkplane.db import api_pool, private_files
from linkplane.durable.runtime import Runtime
from linkplane.errors import Conflict
from linkplane.logs import configure, get_logger
from linkplane.process import hooks
from linkplane.process.base import open_background
from linkplane.process.http import ApiThread, bind
from linkplane.settings import Settings

if TYPE_CHECKING:
    from linkplane.localcloud import server, snapshot

log = get_logger(__name__)


@dataclass
class UpContext:
    """What a startup step may use, and where it reports back."""

    settings: Settings
    app: AppContext  # the API's pool
    #: The pool of the background work (workflow steps, loops), apart from the API's.
    background: AppContext
    cloud: CloudPort  # the provider account in ``region``
    region: str
    cloud_endpoint: str
    api_url: str
    notes: list[str] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    runtime: Runtime | None = None


StartupStep = tuple[str, Callable[[UpContext], None]]


def startup_steps() -> list[StartupStep]:
    """The start-up steps, in order. Add a feature's step here, as a named function."""
    return [
        ("bootstrap region", bootstrap_region),
        ("demo organisation", seed_demo_org),
        ("demo fleet", seed_demo_fleet),
        ("core policy applier", start_policy_applier),
        ("breakout workers", launch_workers),
        ("callback worker", start_callback_worker),
        ("reconciler", start_reconciler),
    ]


# --- startup steps -----------------------------------------------------------------------------
def bootstrap_region(up: UpContext) -> None:
    from linkplane.regions import service

    result = service.bootstrap(
        factory=up.app.sessionmaker, cloud=up.cloud, settings=up.settings, region=up.region
    )
    gone = [c for c in result.changes if c.endswith("no longer exists")]
    if gone:
        up.notes.append(
            f"region {up.region}: {gone[0]} (the embedded cloud lost its state); "
            f"bootstrapped again as {result.region.tgw_id}; breakouts on the old one are "
            "listed by `linkplane audit` (missing_tgw)"
        )
    elif result.changes:
        up.notes.append(f"region {up.region}: bootstrapped, transit gateway {result.region.tgw_id}")
    else:
        up.notes.append(f"region {up.region}: up to date, transit gateway {result.region.tgw_id}")


def seed_demo_org(up: UpContext) -> None:
    """Tenancy: the ``demo`` organisation and its admin (credentials shown once)."""
    from linkplane.db import transaction
    from linkplane.tenancy.service import ensure_demo_org

    with transaction(up.app.sessionmaker) as session:
        creds = ensure_demo_org(session=session, settings=up.settings)
    if creds is None:
        up.notes.append("demo organisation: exists")
    elif creds.generated:
        up.notes.append(f"demo organisation: admin {creds.email} password {creds.password}")
    else:  # chosen by the operator (LINKPLANE_DEMO_*): not echoed into logs
        up.notes.append(f"demo organisation: admin {creds.email} (password from environment)")


def seed_demo_fleet(up: UpContext) -> None:
    """Fleet: profiles and an address space for the ``demo`` organisation."""
    from sqlalchemy import select

    from linkplane.db import transaction
    from linkplane.devices.seed import seed_demo_fleet as seed
    from linkplane.tenancy.models import Organisation

    with transaction(up.app.sessionmaker) as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.name == "demo"))
        if org_id is not None:
            seed(session=session, org_id=org_id, device_cidr=up.settings.device_cidr)


def start_policy_applier(up: UpContext) -> None:
    """Isolation: endpoint, SIM and service-profile commits of this process (API, portal,
    workers) re-apply the core policy promptly; it is applied once at start as well."""
    from linkplane.isolation.policy_trigger import PolicyApplier

    applier = PolicyApplier(settings=up.settings, factory=up.app.sessionmaker,
                            reads=up.background.sessionmaker)  # fmt: skip
    applier.start()
    up.on_stop.append(applier.stop)
    up.notes.append("core policy: applied after every endpoint, SIM or profile change")


def launch_workers(up: UpContext) -> None:
    """The durable runtime of this process (the workflows, sweep and watch of
    ``linkplane worker``), stopped at shutdown."""
    limiter = process_limiter(up.settings, up.background.engine)
    rt = Runtime.build(up.settings, up.background.sessionmaker, limiter=limiter)
    hooks.install_workflows(rt)
    rt.launch()
    up.runtime = rt
    up.on_stop.append(rt.shutdown)
    up.notes.append("breakout workers: running")


def start_callback_worker(up: UpContext) -> None:
    """SMS: delivers MO SMS to the service profiles' API callbacks (durable outbox)."""
    from linkplane.callbacks.worker import CallbackWorker

    worker = CallbackWorker(factory=up.background.sessionmaker, settings=up.settings)
    worker.start()
    up.on_stop.append(worker.stop)
    up.notes.append("callback worker: delivering MO SMS to API callbacks")


def start_reconciler(up: UpContext) -> None:
    """Isolation: policy + audit --repair every ``reconcile_interval_seconds`` (0: off)."""
    interval = up.settings.reconcile_interval_seconds
    if not interval:
        up.notes.append("reconciler: off (--reconcile-interval SECONDS to switch it on)")
        return
    from linkplane.isolation.reconcile import Reconciler

    settings = up.settings
    reconciler = Reconciler(
        settings=settings,
        factory=up.background.sessionmaker,
        cloud_for=lambda r: make_cloud(settings, r),
        interval=interval,
    )
    reconciler.start()
    up.on_stop.append(reconciler.stop)
    up.notes.append(f"reconciler: core policy + audit --repair every {interval:g} s")


def _check_not_running(data_dir: Path) -> None:
    pid = read_runtime(data_dir).get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # a stale runtime.json of a process that died
    except PermissionError:
        pass
    raise Conflict(
        f"linkplane up is already running for {data_dir} (pid {pid}); stop it or use --data-dir"
    )


# --- the command -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpOptions:
    data_dir: Path | None
    host: str
    port: int
    cloud_port: int
    region: str | None
    reconcile_interval: float | None = None


def run(options: UpOptions, stop: threading.Event) -> None:
    """Run until ``stop`` is set; everything started is stopped again, in reverse."""
    private_files()  # the embedded cloud's snapshots, keys and databases: owner only
    base = load_settings(options.data_dir, reconcile_interval_seconds=options.reconcile_interval)
    configure(base.log_level, json=base.log_json)
    hooks.register_reserved_cidrs()
    _check_not_running(base.data_dir)
    from linkplane.regions.service import check_region_name

    region = options.region or base.default_region
    check_region_name(region)
    cloud_sock = bind("127.0.0.1", options.cloud_port, "embedded cloud", "--cloud-port")
    cloud_sock.close()  # moto binds itself; checked here because it hangs on a busy port
    api_sock = bind(options.host, options.port, "API", "--port")
    stops: list[Callable[[], None]] = [api_sock.close]
    try:
        _serve(options, base, region, api_sock, stops, stop)
    finally:
        for fn in reversed(stops):
            _quietly(fn)


def _serve(
    options: UpOptions,
    base: Settings,
    region: str,
    api_sock: socket.socket,
    stops: list[Callable[[], None]],
    stop: threading.Event,
) -> None:
    from linkplane.localcloud import server

    # The embedded cloud's per-request access log would drown the banner; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    every = base.cloud_snapshot_seconds
    keep = server.Persistence(base.data_dir, every) if every else None
    cloud = server.start("127.0.0.1", options.cloud_port, keep)
    stops.append(cloud.stop)
    settings = base.model_copy(update={"aws_endpoint_url": cloud.endpoint_url,
                                       "cloud": "embedded"})  # fmt: skip
    app_ctx = open_context(settings, **api_pool(settings.http_max_concurrent_requests))
    stops.append(app_ctx.close)
    background = open_background(settings)
    stops.append(background.close)
    api_url = f"http://{options.host}:{api_sock.getsockname()[1]}"
    up = UpContext(
        settings=settings, app=app_ctx, background=background, cloud=make_cloud(settings, region),
        region=region,
        cloud_endpoint=cloud.endpoint_url, api_url=api_url,
    )  # fmt: skip
    stops.append(lambda: _stop_all(up.on_stop))
    up.notes.append(cloud_note(cloud.loaded, keep))
    for name, step in startup_steps():
        log.info("up_step", step=name)
        step(up)
    from linkplane.process.app import create_app

    assert up.runtime is not None  # launch_workers is a startup step
    app = create_app(settings, app_ctx.sessionmaker, up.runtime.client)
    api = ApiThread(app, api_sock, settings.trusted_proxies)
    api.start()
    stops.append(api.stop)
    write_runtime(settings.data_dir, _runtime_info(up))
    stops.append(lambda: clear_runtime(settings.data_dir))
    typer.echo(banner(up))
    stop.wait()
    typer.echo("linkplane: stopping")


def cloud_note(loaded: snapshot.Loaded, keep: server.Persistence | None) -> str:
    """The banner's line on what the embedded cloud remembers, plainly."""
    if keep is None:
        return "embedded cloud: in memory only (LINKPLANE_CLOUD_SNAPSHOT_SECONDS=0)"
    if loaded.reset_reason:
        return (
            f"embedded cloud: RESET, started empty: {loaded.reset_reason}. Breakouts built "
            "in the old cloud lost their AWS resources (not the customers' doing)"
        )
    if loaded.existed:
        return f"embedded cloud: restored from {keep.path} (saved every {keep.every_seconds:g} s)"
    return f"embedded cloud: new, saved to {keep.path} every {keep.every_seconds:g} s"


def _runtime_info(up: UpContext) -> dict[str, Any]:
    return {
        "cloud_endpoint": up.cloud_endpoint,
        "api_url": up.api_url,
        "pid": os.getpid(),
        "region": up.region,
        "provider_account_id": up.settings.provider_account_id,
    }


def _stop_all(fns: list[Callable[[], None]]) -> None:
    for fn in reversed(fns):
        _quietly(fn)


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception as exc:  # shutdown goes on: one failing stop must not strand the rest
        log.error("up_stop_failed", error=str(exc))


def banner(up: UpContext) -> str:
    s = up.settings
    lines = [
        "linkplane is up",
        f"  portal:         {up.api_url}/   (sign in as the demo admin below)",
        f"  API:            {up.api_url}/api/v1   (OpenAPI docs: {up.api_url}/docs)",
        f"  embedded cloud: {up.cloud_endpoint}   (provider account {s.provider_account_id})",
        f"  data dir:       {s.data_dir}",
        *[f"  {note}" for note in up.notes],
        "",
        "Act as a customer account (any 12-digit id) with linkplane or boto3 / the AWS CLI:",
        f"  linkplane customer --account 222222222222 --data-dir {s.data_dir} invitations list",
        f"  export AWS_ENDPOINT_URL={up.cloud_endpoint} AWS_DEFAULT_REGION={up.region} \\",
        "         AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test",
        "  aws sts assume-role --role-arn "
        "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole --role-session-name me",
        "  (see docs/tour.md)",
        "",
        f"Stop with Ctrl-C or: kill -TERM {os.getpid()}",
    ]
    return "\n".join(lines)


def _install_signal_handlers(stop: threading.Event) -> None:
    def handler(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        data_dir: Annotated[
            Path | None,
            typer.Option("--data-dir", help="Data directory (default ~/.local/share/linkplane)."),
        ] = None,
        host: Annotated[str, typer.Option("--host", help="API listen address.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="API port.")] = 8080,
        cloud_port: Annotated[
            int, typer.Option("--cloud-port", help="Embedded cloud port.")
        ] = 4566,
        region: Annotated[
            str | None, typer.Option("--region", help="Region to bootstrap (default: settings).")
        ] = None,
        reconcile_interval: Annotated[
            float | None,
            typer.Option(
                "--reconcile-interval",
                help="Seconds between isolation reconciliation passes (policy + audit --repair); "
                "off by default.",
            ),
        ] = None,
    ) -> None:
        """Run linkplane with its embedded cloud: API, region bootstrap and workers."""
        stop = threading.Event()
        _install_signal_handlers(stop)
        run(UpOptions(data_dir, host, port, cloud_port, region, reconcile_interval), stop)
