"""``/health``, ``/ready`` and ``/metrics``: served by ``serve`` (and ``up``) with the API,
and by a worker on its ``--metrics-port``. Meant for the load balancer and Prometheus, not
for the public: route only ``/api`` and the portal to the outside (docs/deploy.md).
"""

from __future__ import annotations

from functools import cached_property

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linkplane import __version__
from linkplane.ops import collectors, readiness
from linkplane.settings import Settings

router = APIRouter(tags=["operations"], include_in_schema=False)


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers. Depends on nothing else, so a database outage does
    not make the orchestrator restart every process."""
    return {"status": "ok", "version": __version__}


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when the database, DBOS's system database and AWS answer; otherwise
    503 naming each dependency that does not."""
    ok, checks = _ops(request).readiness.report()
    body: dict[str, object] = {"status": "ready" if ok else "not ready", "checks": checks}
    if not ok:
        body["not_ready"] = sorted(name for name, result in checks.items() if result != "ok")
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics")
def scrape(request: Request) -> Response:
    return Response(generate_latest(_ops(request).registry), media_type=CONTENT_TYPE_LATEST)


class Operations:
    """This app's metrics registry and readiness checks, built on first use (building the
    app does no I/O and opens no database)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._settings = settings
        self._sessions = sessions

    @cached_property
    def system_db(self) -> Engine:
        return system_engine(self._settings)

    @cached_property
    def registry(self) -> CollectorRegistry:
        return collectors.build_registry(self._sessions, self.system_db)

    @cached_property
    def readiness(self) -> readiness.Readiness:
        from linkplane.cloud.factory import make_cloud

        settings = self._settings
        return readiness.standard(self._sessions.kw["bind"], self.system_db,
                                  lambda: make_cloud(settings),
                                  ttl=settings.ready_cache_seconds)  # fmt: skip


def _ops(request: Request) -> Operations:
    ops: Operations = request.app.state.operations
    return ops


def install(app: FastAPI, settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Mount the routes on ``app`` with this process's registry and readiness checks."""
    app.state.operations = Operations(settings, sessions)
    app.include_router(router)


def system_engine(settings: Settings) -> Engine:
    """A small engine on DBOS's system database, for the readiness check and the queue
    metrics (no connection is made until one of them runs)."""
    from linkplane.db import make_engine
    from linkplane.durable.config import system_database_url

    url = system_database_url(settings)
    if url.startswith("sqlite"):
        return make_engine(url)
    from sqlalchemy import create_engine

    return create_engine(url, pool_size=1, max_overflow=1, pool_pre_ping=True)


def create_ops_app(settings: Settings, sessions: sessionmaker[Session]) -> FastAPI:
    """Only the operations routes: what a worker serves on its ``--metrics-port``."""
    app = FastAPI(title="linkplane worker", version=__version__, docs_url=None,
                  redoc_url=None, openapi_url=None)  # fmt: skip
    install(app, settings, sessions)
    return app
