"""The HTTP application: routers of every feature under /api, the portal at /.

Built by the roots that serve HTTP (``serve``, ``up``); ``linkplane.api`` is only the HTTP
toolkit the features' routers use (dependencies, errors, pagination).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from linkplane import __version__
from linkplane.api import errors
from linkplane.api.admission import Admission
from linkplane.api.limits import BodySizeLimit
from linkplane.api.text import refuse_control_characters
from linkplane.durable.client import QueueClient, WorkflowClient
from linkplane.settings import Settings


def create_app(
    settings: Settings, factory: sessionmaker[Session], workflows: WorkflowClient | None = None
) -> FastAPI:
    """Build the app around an existing (migrated) database; no I/O happens here.

    ``workflows`` starts and signals workflows; by default the DBOS queue of ``settings``'
    system database, which the workers (or ``up``'s own runtime) consume.
    """
    app = FastAPI(
        lifespan=_threads_for(settings.http_max_concurrent_requests),
        title="linkplane",
        version=__version__,
        description="emnify-compatible REST API for fleets and Cloud Connect breakouts.",
        dependencies=[Depends(refuse_control_characters)],
    )
    app.state.settings = settings
    app.state.sessionmaker = factory
    # SQLite: this process's writing requests take turns (linkplane.api.deps.get_session).
    app.state.sqlite_writes = None if settings.on_postgres else threading.Lock()
    app.state.workflows = workflows or QueueClient(settings)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Added last, so it runs first: a request waits for its slot before anything else.
    app.add_middleware(Admission, limit=settings.http_max_concurrent_requests,
                       per_client=settings.http_max_concurrent_per_client,
                       wait_seconds=settings.http_admission_wait_seconds,
                       retry_after_seconds=settings.http_retry_after_seconds)  # fmt: skip

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness and the trivial baseline the benchmarks compare against."""
        return {"status": "ok", "version": __version__}

    for router in _routers():
        app.include_router(router)
    from linkplane.ops.api import install as install_operations

    install_operations(app, settings, factory)  # /health, /ready, /metrics
    # Last, so every /api route above matches first; the portal serves all other paths.
    from linkplane.portal.app import create_portal
    from linkplane.tenancy.throttle import limiter_on

    portal = create_portal(settings, factory, app.state.workflows)
    # One sign-in attempt budget per address for the API and the portal together.
    portal.state.auth_limiter = limiter_on(app.state, settings.auth_attempts_per_minute)
    app.mount("/", portal, name="portal")
    return app


def _threads_for(
    admitted: int,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that gives the thread pool of sync handlers room for every admitted
    request plus the exempt ones (liveness, readiness, metrics, static files), so those
    never wait behind a burst (anyio's default is 40 threads per event loop)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, admitted + 16)
        yield

    return lifespan


def _routers() -> list[APIRouter]:
    # Imported here so that building the CLI does not import every feature.
    from linkplane.addressing.api import router as addressing
    from linkplane.attachments.api import router as attachments
    from linkplane.blocklists.api import router as blocklists
    from linkplane.callbacks.api import router as callbacks
    from linkplane.devices.api import router as devices
    from linkplane.devices.bulk_api import router as devices_bulk
    from linkplane.events.api import router as events
    from linkplane.mfa.api import router as mfa
    from linkplane.operators.api import router as operators
    from linkplane.profiles.api import router as profiles
    from linkplane.quotas.api import router as quotas
    from linkplane.regions.api import router as regions
    from linkplane.sims.api import router as sims
    from linkplane.sims.migration_api import router as sim_migration
    from linkplane.sms.api import router as sms
    from linkplane.tariffs.api import router as tariffs
    from linkplane.tenancy.api import router as tenancy
    from linkplane.tenancy.user_api import router as tenancy_users
    from linkplane.trafficlimits.api import router as trafficlimits
    from linkplane.usage.api import router as usage

    return [
        mfa, tenancy, tenancy_users, events, devices, devices_bulk, sim_migration, sims,
        profiles, operators, addressing, regions, attachments, usage, tariffs, sms, callbacks,
        quotas, trafficlimits, blocklists,
    ]  # fmt: skip
