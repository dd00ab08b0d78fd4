"""The contract test: every operation of emnify's published API that linkplane serves is
called (tests/contract/recipes.py) and each response is checked against the operation's
published response schema, with only the description defects listed, with their reasons, in
tests/contract/defects.py tolerated. Every served operation with ids is also called with an
unknown id, so its error answers are checked too.

Needs emnify's descriptions (``../shared/reference/emnify-openapi/`` next to the
repository, or ``LINKPLANE_EMNIFY_OPENAPI_DIR``); skips naming the folder without them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from linkplane.addressing import service as addressing
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.api_harness import api_routes
from tests.contract import recipes
from tests.contract.check import problems
from tests.contract.defects import KNOWN_VIOLATIONS
from tests.contract.recipes import Step, World
from tests.contract.spec import SPEC_DIR, Operation, operations, served
from tests.test_breakouts_support import REGION, Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the process-wide fixture

pytestmark = pytest.mark.skipif(
    not SPEC_DIR.is_dir(),
    reason=f"emnify's OpenAPI descriptions not found in {SPEC_DIR} "
    "(set LINKPLANE_EMNIFY_OPENAPI_DIR)",
)


def _served() -> dict[str, Operation]:
    app = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None)  # type: ignore[arg-type]
    return served({(m, p) for p, methods in api_routes(app.routes) for m in methods})


def _send(world: World, step: Step) -> Any:
    path = recipes.fill(step.path, world.ids)
    kwargs: dict[str, Any] = {"params": step.params}
    if step.body is not None:
        kwargs["content"] = json.dumps(recipes.fill(step.body, world.ids))
        kwargs["headers"] = {"Content-Type": "application/json"}
    if not step.anonymous:
        kwargs["headers"] = {**kwargs.get("headers", {}), **world.headers}
    return world.client.request(step.method, path, **kwargs)


def _run(world: World, ops: dict[str, Operation], phase: Iterator[Step],
         covered: set[str], failures: list[str]) -> None:  # fmt: skip
    for step in phase:
        op = ops.get(step.operation_id)
        if op is None:
            failures.append(f"recipe for {step.operation_id}: linkplane does not serve it")
            continue
        r = _send(world, step)
        covered.add(step.operation_id)
        where = f"{step.method} {step.path} ({step.operation_id})"
        if r.status_code != step.status:
            failures.append(f"{where}: answered {r.status_code}, not {step.status}: "
                            f"{r.text[:300]}")  # fmt: skip
            continue
        failures.extend(f"{where}: {p}" for p in problems(op, r.status_code, r.content))
        if step.keep is not None and 200 <= r.status_code < 300:
            step.keep(world, r.json())


def _unknown_ids(world: World, ops: dict[str, Operation], failures: list[str]) -> None:
    """Every served operation with ids, called with an id that does not exist."""
    for op in ops.values():
        if "{" not in op.path:
            continue
        path = recipes.PARAM_RE.sub("987654321", op.path)
        body = None if op.method in ("GET", "DELETE") else "{}"
        r = world.client.request(op.method, path, content=body, headers={
            **world.headers, "Content-Type": "application/json"})  # fmt: skip
        if not 400 <= r.status_code < 500:
            failures.append(f"{op.label} with unknown ids: {r.status_code} {r.text[:200]}")
            continue
        failures.extend(f"{op.label} (unknown ids): {p}"
                        for p in problems(op, r.status_code, r.content))  # fmt: skip


def test_every_served_operation_answers_as_published(stack: Stack) -> None:
    ops = _served()
    ctx = stack.ctx
    world = recipes.build(stack.client, ctx.sessionmaker, stack.settings, REGION,
                          recipes.stamp())  # fmt: skip
    with ctx.sessionmaker() as session:
        cidr = addressing.first_free_subnet(session=session, device_cidr=stack.settings.device_cidr)
    world.ids.update(cidr=str(cidr), vpc_cidr=new_cidrs()[0], account=new_account(),
                     vpn_cidr=new_cidrs()[0], octet="9")
    covered: set[str] = set()
    failures: list[str] = []
    phases: list[Callable[[World], Iterator[Step]]] = [
        recipes.fleet_steps, recipes.sms_steps, recipes.tenancy_steps, recipes.mfa_steps,
        recipes.user_steps, recipes.addressing_steps, recipes.cloud_connect_steps,
    ]
    for phase in phases:
        _run(world, ops, phase(world), covered, failures)
    recipes.add_usage(world, ctx.sessionmaker)
    _run(world, ops, recipes.usage_steps(world), covered, failures)
    _run(world, ops, recipes.tariff_steps(world), covered, failures)
    _unknown_ids(world, ops, failures)
    still = [f for f in failures if f in KNOWN_VIOLATIONS]
    fixed = sorted(set(KNOWN_VIOLATIONS) - set(still))
    failures = [f for f in failures if f not in KNOWN_VIOLATIONS]
    failures += [f"fixed, remove from KNOWN_VIOLATIONS: {f}" for f in fixed]
    missing = sorted(set(ops) - covered)
    if missing:
        failures.append("served operations without a recipe in tests/contract/recipes.py: "
                        + ", ".join(missing))  # fmt: skip
    assert not failures, "\n".join(failures)


# --- the check itself can fail ------------------------------------------------------------


def _op(operation_id: str) -> Operation:
    return next(op for op in operations() if op.operation_id == operation_id)


ENDPOINT = {
    "id": 1, "ip_address": "100.64.0.1", "status": {"id": 0, "description": "Enabled"},
    "name": "x", "tags": None, "imei": None, "created": "2026-01-01T00:00:00Z",
    "last_updated": "2026-01-01T00:00:00Z", "imei_lock": False,
    "service_profile": {"id": 1, "name": "a"},
    "tariff_profile": {"id": 1, "name": "b", "satellite_capable": False},
    "sim": None, "ip_address_space": {"id": 1}, "imei_with_luhn": None,
}  # fmt: skip


def test_the_check_fails_on_responses_that_violate_the_description() -> None:
    get = _op("endpoint-by-id-get")
    assert problems(get, 200, json.dumps(ENDPOINT).encode()) == []
    missing = {k: v for k, v in ENDPOINT.items() if k != "tariff_profile"}
    assert any("tariff_profile" in p for p in problems(get, 200, json.dumps(missing).encode()))
    created = _op("create-endpoint")
    assert problems(created, 201, json.dumps(ENDPOINT).encode()) == []
    no_flag = {**ENDPOINT, "tariff_profile": {"id": 1, "name": "b"}}
    assert any("satellite_capable" in p
               for p in problems(created, 201, json.dumps(no_flag).encode()))  # fmt: skip
    wrong = {**ENDPOINT, "id": "1"}
    assert problems(get, 200, json.dumps(wrong).encode())
    assert problems(get, 201, json.dumps(ENDPOINT).encode())  # not declared
    assert problems(_op("endpoint-by-id-patch"), 204, b"{}")  # a 204 has no body
    # Unlisted errors must still be linkplane's error body.
    assert problems(get, 404, b'{"detail": "Not Found"}')
    assert problems(_op("operator-get"), 200, json.dumps(
        [{"id": 1, "country": {"mcc": "262"}}]).encode())  # fmt: skip
    # A tolerated defect corrects only what it names: the bulk answer still needs the id.
    bulk = _op("bulk-create-endpoint")
    assert problems(bulk, 201, json.dumps([ENDPOINT]).encode()) == []
    no_id = {k: v for k, v in ENDPOINT.items() if k != "id"}
    assert problems(bulk, 201, json.dumps([no_id]).encode())


def test_the_coverage_table_of_the_docs_is_current() -> None:
    """docs/api-compat.md lists every published operation and whether it is served."""
    from tests.contract import coverage

    assert len(operations()) == 122
    assert coverage.current() == coverage.table(), (
        "docs/api-compat.md is out of date: run .venv/bin/python -m tests.contract.coverage "
        "--write"
    )
    unknown = set(coverage.NOTES) - {op.operation_id for op in operations()}
    assert not unknown, f"notes for operations that are not published: {unknown}"
