"""Property-based run of schemathesis against linkplane's own OpenAPI, in-process (ASGI).

Every operation gets bounded generated requests, authenticated as an admin of a provider
organisation (so provider routes are exercised too). Checked: no 5xx, and every response
that the schema documents conforms to it (so response_model declarations must be accurate).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from linkplane.context import open_context
from linkplane.db import transaction
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service

MAX_EXAMPLES = int(os.environ.get("LINKPLANE_SCHEMATHESIS_EXAMPLES", "6"))


@pytest.fixture(scope="module")
def app_and_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    app_settings = Settings(data_dir=tmp_path_factory.mktemp("schemathesis"))
    ctx = open_context(app_settings)
    with transaction(ctx.sessionmaker) as session:
        org, admin = service.create_org_with_admin(
            session=session,
            name="provider-ops",
            admin_email="ops@example.com",
            admin_password=secrets.token_urlsafe(12),
            is_provider=True,
        )
        org_id, admin_id = org.id, admin.id
    token = service.mint(settings=app_settings, org_id=org_id, role="admin", user_id=admin_id)
    app = create_app(app_settings, ctx.sessionmaker)
    with TestClient(app):  # runs the app's lifespan, as a server would
        yield app, token
    ctx.close()


def _run_operation(operation: Any, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report fast, keep CI bounded
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()


def test_no_server_errors_and_responses_match_schema(app_and_token: tuple[Any, str]) -> None:
    """One test over all operations (schemathesis' lazy pytest loader does not support this
    pytest version); a failure names the operation and the reproducing request."""
    app, token = app_and_token
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    only = re.compile(os.environ.get("LINKPLANE_SCHEMATHESIS_ONLY", ""))
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only.search(operation.label):
            continue
        started = time.monotonic()
        try:
            _run_operation(operation, token)
        except Exception as exc:  # collect all, report together
            failures.append(f"{operation.label}: {exc}")
        print(f"{operation.label}: {time.monotonic() - started:.1f}s")  # shown with -s
    assert not failures, "\n\n".join(failures)
