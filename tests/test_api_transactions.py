"""A 2xx means the request's changes are committed: the session commits before the response
is sent (FastAPI's default for yield dependencies commits after it), so a failing commit is
an error response, never a success, and the client's next request reads what it wrote."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from linkplane.api.deps import SessionDep
from linkplane.context import AppContext
from linkplane.process.app import create_app
from linkplane.tenancy.models import Organisation


def _app(ctx: AppContext, fail_commit: bool) -> TestClient:
    router = APIRouter()

    @router.post("/test/org/{name}", status_code=201)
    def make(name: str, session: SessionDep) -> dict[str, str]:
        session.add(Organisation(name=name))
        if fail_commit:
            event.listen(session, "before_commit", _boom, once=True)
        return {"name": name}

    app = create_app(ctx.settings, ctx.sessionmaker)
    app.router.routes[:0] = router.routes  # ahead of the portal mounted at "/"
    return TestClient(app, raise_server_exceptions=False)


def _boom(_session: Session) -> None:
    raise RuntimeError("commit failed")


def test_a_failing_commit_is_not_reported_as_success(ctx: AppContext) -> None:
    response = _app(ctx, fail_commit=True).post("/test/org/b")
    assert response.status_code >= 500
    with ctx.sessionmaker() as session:
        assert session.scalar(select(Organisation).where(Organisation.name == "b")) is None
