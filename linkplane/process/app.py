"""The HTTP application: routers of every feature under /api, the portal at /.

Built by the roots that serve HTTP (``serve``, ``up``); ``linkplane.api`` is only the HTTP
toolkit the features' routers use (dependencies, errors, pagination).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from linkplane import __version__
from linkplane.api import errors
from linkplane.api.limits import BodySizeLimit
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
        title="linkplane",
        version=__version__,
        description="emnify-compatible REST API for fleets and Cloud Connect breakouts.",
    )
    app.state.settings = settings
    app.state.sessionmaker = factory
    app.state.workflows = workflows or QueueClient(settings)
    errors.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

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

    app.mount("/", create_portal(settings, factory, app.state.workflows), name="portal")
    return app


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
