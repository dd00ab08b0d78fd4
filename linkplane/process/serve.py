"""``linkplane serve``: the API and the portal only; the composition root of an API process.

It runs no workflow step: creating, retrying, deleting or re-checking a breakout commits the
row and hands the workflow to the workers through DBOS's queue and messages
(:class:`~linkplane.durable.client.QueueClient`). Any number of ``serve`` processes may run
behind a load balancer; they share sessions through ``LINKPLANE_JWT_SECRET``.
"""

from __future__ import annotations

from collections.abc import Callable

from linkplane.context import AppContext
from linkplane.db import api_pool
from linkplane.durable.client import QueueClient
from linkplane.errors import InvalidInput
from linkplane.logs import get_logger
from linkplane.process import hooks
from linkplane.process.app import create_app
from linkplane.process.base import open_migrated, process_settings
from linkplane.process.http import bind, server
from linkplane.settings import Settings

log = get_logger(__name__)


def require_shared_secret(settings: Settings) -> None:
    """On PostgreSQL, tokens must verify in every ``serve`` process: one explicit key."""
    if settings.on_postgres and not settings.jwt_secret:
        raise InvalidInput(
            "LINKPLANE_JWT_SECRET is not set: with PostgreSQL, several serve processes (on "
            "several hosts) must sign and check tokens and portal sessions with one shared key, "
            "and a key generated per data directory would sign users out whenever the load "
            "balancer picks another process. Set it to the same long random value in every "
            "serve process, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'",
            field="LINKPLANE_JWT_SECRET",
        )


def _notify_policy_changes(settings: Settings, ctx: AppContext) -> Callable[[], None]:
    """Endpoint, SIM and profile commits of this process wake the workers' core policy
    appliers (PostgreSQL ``NOTIFY``); serve applies nothing itself. Returns the unhook."""
    if not settings.on_postgres:
        return lambda: None  # one process (``up``) serves a SQLite database and applies
    from linkplane.isolation.policy_trigger import notify_workers, watch

    return watch(ctx.sessionmaker, notify_workers(ctx.sessionmaker))


def run(host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT (uvicorn's own handlers stop it gracefully)."""
    settings = process_settings()
    require_shared_secret(settings)
    sock = bind(host, port, "API", "--port")
    ctx = open_migrated(settings, **api_pool(settings.http_max_concurrent_requests))
    hooks.register_reserved_cidrs()
    workflows = QueueClient(settings)
    unwatch = _notify_policy_changes(settings, ctx)
    try:
        app = create_app(settings, ctx.sessionmaker, workflows)
        log.info("serving", url=f"http://{host}:{sock.getsockname()[1]}")
        server(app, settings.trusted_proxies).run(sockets=[sock])
    finally:
        unwatch()
        workflows.close()
        ctx.close()
        sock.close()
