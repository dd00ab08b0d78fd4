"""/metrics, /health and /ready of the served app, on the breakout stack (real workflows,
real adapter, embedded cloud): the metric names are there, and they move."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from linkplane.context import AppContext
from linkplane.durable.config import system_database_url
from linkplane.isolation import service as isolation
from linkplane.localcloud import throttle
from linkplane.ops.readiness import Check, Readiness
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(resp.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def families(client: TestClient) -> set[str]:
    return {f.name for f in text_string_to_metric_families(client.get("/metrics").text)}


@pytest.fixture
def no_faults() -> Iterator[None]:
    throttle.reset()
    yield
    throttle.reset()


def _to_active(stack: Stack) -> int:
    account = new_account()
    bid = int(stack.create(account, new_cidrs())["id"])
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    stack.attach(account)
    stack.client.post(f"/api/v1/cnc/breakout/{bid}/recheck")
    stack.status(bid, 5)
    return bid


def test_metric_names_are_exposed(stack: Stack) -> None:
    assert {
        "linkplane_aws_calls", "linkplane_aws_budget_wait_seconds",
        "linkplane_workflow_step_seconds", "linkplane_workflow_step_failures",
        "linkplane_isolation_last_findings", "linkplane_isolation_findings",
        "linkplane_breakouts", "linkplane_workflow_queue_depth",
        "linkplane_workflow_queue_oldest_age_seconds", "process_cpu_seconds",
    } <= families(stack.client)  # fmt: skip


def test_breakouts_steps_and_aws_calls_move(stack: Stack, no_faults: None) -> None:
    before = scrape(stack.client)
    # AWS refuses the share once for rate: the adapter retries it.
    throttle.inject_fault("CreateResourceShare", "ThrottlingException", 429, 1)
    _to_active(stack)
    after = scrape(stack.client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("linkplane_breakouts", status="active", type="tgw") == 1
    calls = "linkplane_aws_calls_total"
    assert moved(calls, service="ram", action="CreateResourceShare", outcome="throttled") == 1
    assert moved(calls, service="ram", action="CreateResourceShare", outcome="ok") == 1
    assert moved(calls, service="ec2", action="AcceptTransitGatewayVpcAttachment",
                 outcome="ok") >= 1  # fmt: skip
    assert moved("linkplane_aws_budget_wait_seconds_count", service="ec2",
                 action_class="mutating") >= 3  # fmt: skip
    # TGW sequence 2: what runs without a wait between is one compound step, timed as one.
    for step in ("share", "invitation_status", "attachment", "routing"):
        assert moved("linkplane_workflow_step_seconds_count", step=step) >= 1, step


def test_failed_steps_are_counted(stack: Stack, no_faults: None) -> None:
    before = scrape(stack.client)
    # Permanently refused: the step fails, the workflow rolls back.
    throttle.inject_fault("CreateResourceShare", "AccessDeniedException", 403, 1)
    account = new_account()
    bid = int(stack.create(account, new_cidrs())["id"])
    stack.status(bid, 7)
    after = scrape(stack.client)
    key = ("linkplane_aws_calls_total",
           frozenset({"service": "ram", "action": "CreateResourceShare",
                      "outcome": "failed"}.items()))  # fmt: skip
    assert after.get(key, 0) - before.get(key, 0) == 1
    step = ("linkplane_workflow_step_failures_total", frozenset({"step": "share"}.items()))
    assert after.get(step, 0) - before.get(step, 0) >= 1


def test_audit_findings_move_and_clear(stack: Stack) -> None:
    # The stack is shared by every module of the test process: other tests may have left
    # their own drift behind, so the counters must move by exactly what this audit found.
    bid = _to_active(stack)
    cidr = stack.get(bid)["vpc_cidr"][0]
    assert cidr in stack.core_routes()
    ec2 = stack.customer(stack.settings.provider_account_id, "ec2")
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=stack.region.core_route_table_id,
                                     DestinationCidrBlock=cidr)  # fmt: skip
    before = scrape(stack.client)
    kwargs = {"settings": stack.settings, "factory": stack.ctx.sessionmaker,
              "cloud_for": lambda _region: stack.provider}  # fmt: skip
    found = isolation.audit(**kwargs)  # type: ignore[arg-type]
    after = scrape(stack.client)
    labels = {"check": "audit", "code": "missing_route"}
    missing = [f for f in found.findings if f.code == "missing_route"]
    assert cidr in {f.resource.split("#")[-1] for f in missing if f.breakout_id == bid}
    assert value(after, "linkplane_isolation_findings_total", **labels) - value(
        before, "linkplane_isolation_findings_total", **labels) == len(missing)  # fmt: skip
    assert value(after, "linkplane_isolation_last_findings", **labels) == len(missing)
    isolation.repair(factory=stack.ctx.sessionmaker, cloud_for=kwargs["cloud_for"],
                     findings=found.findings)  # fmt: skip
    again = isolation.audit(**kwargs)  # type: ignore[arg-type]
    left = [f for f in again.findings if f.code == "missing_route"]
    assert bid not in {f.breakout_id for f in left}  # repaired; others' drift may remain
    assert value(scrape(stack.client), "linkplane_isolation_last_findings", **labels) == len(
        left)  # fmt: skip


def test_queue_depth_and_age_of_waiting_starts(stack: Stack) -> None:
    """A start on a queue no process serves waits: it shows in depth and age."""
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=system_database_url(stack.settings))
    try:
        handle = client.enqueue({"workflow_name": "nobody-runs-this", "queue_name": "ops-test"})
        samples = scrape(stack.client)
        assert value(samples, "linkplane_workflow_queue_depth", queue="ops-test") == 1
        assert value(samples, "linkplane_workflow_queue_oldest_age_seconds", queue="ops-test") >= 0
        client.cancel_workflow(handle.get_workflow_id())
        assert value(scrape(stack.client), "linkplane_workflow_queue_depth", queue="ops-test") == 0
    finally:
        client.destroy()


def test_health_and_ready(stack: Stack) -> None:
    assert stack.client.get("/health").json()["status"] == "ok"
    resp = stack.client.get("/ready")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "ready", "checks": {
        "database": "ok", "workflow_database": "ok", "aws": "ok"}}  # fmt: skip


def test_not_ready_names_what_is_missing(ctx: AppContext, tmp_path: Path) -> None:
    """No AWS at the endpoint, no DBOS system database yet: 503, each named; the database
    itself is fine."""
    settings = Settings(data_dir=tmp_path / "data", aws_endpoint_url="http://127.0.0.1:9",
                        ready_cache_seconds=0)  # fmt: skip
    client = TestClient(create_app(settings, ctx.sessionmaker))
    resp = client.get("/ready")
    assert resp.status_code == 503
    body = resp.json()
    assert body["not_ready"] == ["aws", "workflow_database"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["aws"].startswith("unreachable: ")
    assert "workflow_status" in body["checks"]["workflow_database"]
    assert client.get("/health").status_code == 200  # liveness does not depend on them


def test_ready_checks_are_cached_for_the_ttl() -> None:
    now = [0.0]
    calls: list[str] = []

    def probe() -> None:
        calls.append("aws")
        if len(calls) == 1:
            raise _unreachable()

    ready = Readiness([Check("aws", probe)], ttl=5, clock=lambda: now[0])
    assert ready.report() == (False, {"aws": "unreachable: down"})
    now[0] = 4.9
    assert ready.report()[0] is False and len(calls) == 1  # cached
    now[0] = 5.0
    assert ready.report() == (True, {"aws": "ok"}) and len(calls) == 2


def _unreachable() -> Exception:
    from linkplane.cloud.errors import EndpointUnreachable

    return EndpointUnreachable("down")
