"""Issue 13 item 9: every id a client can send (path, query, body; API and portal) is
bounded, so an absurd id is a 4xx that says what is wrong, never a driver overflow and a 500.

The routes are enumerated from the app as in tests/test_api_isolation.py: a new route with an
id is covered without anyone remembering to add it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from linkplane.context import AppContext, open_context
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.api_harness import PARAM, Harness, api_routes, build, load_declarations
from tests.portal.client import PortalClient
from tests.portal.fleet import seed_fleet
from tests.portal.harness import Org as PortalOrg

DECLARED = load_declarations()

#: Past SQLite's 64-bit integers, past PostgreSQL's INTEGER, a digit int() refuses, and
#: values no id ever has.
BAD_IDS = ["99999999999999999999999", "9223372036854775808", "2147483648", "²", "٣", "-1", "0"]


def _api_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None)  # type: ignore[arg-type]
    found = {(m, path) for path, methods in api_routes(app.routes) for m in methods}
    return sorted((m, p) for m, p in found if m not in ("HEAD", "OPTIONS") and PARAM.search(p))


ROUTES = _api_routes()


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("bounded"))
    ctx = open_context(settings)
    with TestClient(create_app(settings, ctx.sessionmaker), raise_server_exceptions=False) as c:
        yield build(c, settings, ctx.sessionmaker)
    ctx.close()


def _body(h: Harness, method: str, template: str) -> dict[str, Any] | None:
    if method not in ("POST", "PUT", "PATCH"):
        return None
    decl = DECLARED.get(template)
    return h.body_for(decl, method, template) if decl else {}


def _send(h: Harness, method: str, path: str, body: Any, **kw: Any) -> Any:
    if body is None:
        return h.client.request(method, path, headers=h.owner.admin, **kw)
    return h.client.request(method, path, headers=h.owner.admin, json=body, **kw)


def test_routes_with_ids_are_found() -> None:
    assert len(ROUTES) > 40, ROUTES  # the enumeration itself works


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {t}" for m, t in ROUTES])
def test_absurd_path_ids_are_4xx(h: Harness, method: str, template: str) -> None:
    body = _body(h, method, template)
    for bad in BAD_IDS:
        for name in PARAM.findall(template):
            # one parameter bad, the others plausible: each parameter is checked on its own
            path = PARAM.sub(lambda m, n=name, b=bad: b if m.group(1) == n else "1", template)
            r = _send(h, method, path, body)
            assert 400 <= r.status_code < 500, f"{method} {path}: {r.status_code} {r.text[:200]}"
            assert r.json()["errors"] or r.status_code in (403, 404), r.text


def _openapi() -> dict[str, Any]:
    app = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None)  # type: ignore[arg-type]
    spec: dict[str, Any] = app.openapi()
    return spec


SPEC = _openapi()


def _query_routes() -> list[str]:
    return sorted(
        path
        for path, ops in SPEC["paths"].items()
        if any(p["name"] == "q" for p in ops.get("get", {}).get("parameters", []))
    )


def _unbounded(schema: dict[str, Any], where: str, seen: frozenset[str]) -> Iterator[str]:
    """Every integer in ``schema`` (through $refs, unions, lists) without an upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unbounded(SPEC["components"]["schemas"][name], where, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _unbounded(sub, where, seen)
    if schema.get("type") == "integer" and "maximum" not in schema and "enum" not in schema:
        yield where
    for name, sub in schema.get("properties", {}).items():
        yield from _unbounded(sub, f"{where}.{name}", seen)
    if "items" in schema:
        yield from _unbounded(schema["items"], f"{where}[]", seen)


def test_every_integer_a_client_sends_is_bounded() -> None:
    """Static half of the guarantee: a new path, query or body integer without the shared
    bounds (linkplane/ids.py, linkplane/api/params.py) fails here before it reaches SQLite."""
    found: list[str] = []
    for path, ops in SPEC["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                where = f"{method.upper()} {path} {p['in']}:{p['name']}"
                found += _unbounded(p["schema"], where, frozenset())
            for content in op.get("requestBody", {}).get("content", {}).values():
                found += _unbounded(content["schema"], f"{method.upper()} {path} body", frozenset())
    assert not found, "integers without a maximum: " + "; ".join(found)


QUERY_ROUTES = _query_routes()


@pytest.mark.parametrize("template", QUERY_ROUTES)
def test_absurd_ids_in_q_filters_are_4xx(h: Harness, template: str) -> None:
    path = PARAM.sub("1", template)
    for key in ("id", "sim", "endpoint", "status", "service_profile", "tariff_profile"):
        for bad in BAD_IDS[:4]:
            r = _send(h, "GET", path, None, params={"q": f"{key}:{bad}"})
            assert r.status_code < 500, f"{path} q={key}:{bad}: {r.status_code} {r.text[:200]}"


HUGE = 99999999999999999999999
BODY_CASES = [
    ("POST", "/api/v1/endpoint", {"name": "x", "service_profile": {"id": HUGE}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "tariff_profile": {"id": HUGE}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "sim": {"id": HUGE}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "status": {"id": HUGE}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "ip_address_space": {"id": HUGE}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "service_profile": {"id": -5}}),
    ("POST", "/api/v1/endpoint", {"name": "x", "service_profile": {"id": True}}),
    ("PATCH", "/api/v1/endpoint/1", {"service_profile": {"id": HUGE}}),
    ("PATCH", "/api/v1/sim/1", {"status": {"id": HUGE}}),
    ("PATCH", "/api/v1/sim/1", {"endpoint": {"id": HUGE}}),
    ("POST", "/api/v1/cnc/breakout/tgw", {"type": {"id": HUGE}, "name": "x"}),
    ("POST", "/api/v1/cnc/breakout/tgw", {"type": {"id": True}, "name": "x"}),
    ("POST", "/api/v1/user", {"username": "a@example.com", "name": "a", "roles": [{"id": HUGE}]}),
]


@pytest.mark.parametrize(("method", "path", "body"), BODY_CASES)
def test_absurd_ids_in_bodies_are_4xx(
    h: Harness, method: str, path: str, body: dict[str, Any]
) -> None:
    r = _send(h, method, path, body)
    assert 400 <= r.status_code < 500, f"{method} {path} {body}: {r.status_code} {r.text[:200]}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": {"id": True}, "name": "x", "vpc_cidr": ["10.9.0.0/24"], "region": "eu-central-1",
          "aws_account_id": "222222222222"}, "type"),
        ({"type": True, "name": "x", "vpc_cidr": ["10.9.0.0/24"], "region": "eu-central-1",
          "aws_account_id": "222222222222"}, "type"),
        ({"type": {"id": HUGE}, "name": "x", "vpc_cidr": ["10.9.0.0/24"],
          "region": "eu-central-1", "aws_account_id": "222222222222"}, "type"),
    ],
)  # fmt: skip
def test_true_and_huge_are_not_breakout_types(h: Harness, body: dict[str, Any], field: str) -> None:
    r = _send(h, "POST", "/api/v1/cnc/breakout/tgw", body)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field], r.text


def test_true_is_not_an_id_in_a_reference(h: Harness) -> None:
    r = _send(h, "POST", "/api/v1/endpoint", {"name": "x", "service_profile": {"id": True}})
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert "not true or false" in errors["service_profile.id"], r.text


# --- the portal -------------------------------------------------------------------------------


def _portal_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None)  # type: ignore[arg-type]
    portal = next(r for r in app.routes if getattr(r, "name", "") == "portal")
    found = {(m, path) for path, methods in api_routes(portal.app.routes) for m in methods}
    return sorted((m, p) for m, p in found if m != "HEAD" and PARAM.search(p))


PORTAL_ROUTES = _portal_routes()


def test_portal_routes_with_ids_are_found() -> None:
    templates = {t for _, t in PORTAL_ROUTES}
    assert templates >= {"/devices/{endpoint_id}", "/cloud-connect/{breakout_id}"}


@pytest.mark.parametrize(("method", "template"), PORTAL_ROUTES)
def test_portal_absurd_ids_are_a_page_not_a_500(
    web: PortalClient, tenants: dict[str, PortalOrg], method: str, template: str
) -> None:
    web.sign_in(tenants["acme"].admin)
    token = web.csrf("/devices")  # any form of the session carries its CSRF token
    for bad in BAD_IDS:
        path = PARAM.sub(bad, template)
        if method == "GET":
            r = web.get(path, follow_redirects=False)
        else:
            r = web.post(path, data={"csrf_token": token, "status": "1"}, follow_redirects=False)
        assert r.status_code == 404, f"{method} {path}: {r.status_code} {r.text[:300]}"
        assert "detail" not in r.text and "<html" in r.text.lower(), r.text[:300]


@pytest.fixture(scope="module")
def device(portal_ctx: tuple[AppContext, dict[str, PortalOrg]]) -> int:
    ctx, tenants = portal_ctx
    return seed_fleet(ctx, tenants["acme"].id, 1, prefix="Bounded", serial=7)[0]


@pytest.mark.parametrize("status", ["99999999999999999999999", "9223372036854775808", "²", "x"])
def test_portal_absurd_form_values_are_422_pages(
    web: PortalClient, tenants: dict[str, PortalOrg], device: int, status: str
) -> None:
    web.sign_in(tenants["acme"].admin)
    r = web.post(f"/devices/{device}/status", data={"csrf_token": web.csrf(f"/devices/{device}"),
                 "status": status}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 422, r.text[:300]
    assert '{"detail"' not in r.text and "status" in r.text, r.text[:300]


def test_portal_absurd_query_values_are_422_pages(
    web: PortalClient, tenants: dict[str, PortalOrg]
) -> None:
    web.sign_in(tenants["acme"].admin)
    r = web.get("/cloud-connect/new/details?type=99999999999999999999999")
    assert r.status_code == 422 and '{"detail"' not in r.text, r.text[:300]
    r = web.get("/devices?page=99999999999999999999999")
    assert r.status_code == 422 and '{"detail"' not in r.text, r.text[:300]


def test_role_ids_and_iccid_ranges_in_other_digits_are_4xx(h: Harness) -> None:
    for method in ("PUT", "DELETE"):
        r = _send(h, method, f"/api/v1/user/{h.owner.admin_id}/role/²", None)
        assert r.status_code == 404, r.text
    body = {"target_workspace": {"id": h.owner.id}, "iccid_range": {"start": "²" * 19,
            "end": "٣" * 19}}  # fmt: skip
    r = _send(h, "POST", "/api/v1/sim/migration/workspace", body)
    assert 400 <= r.status_code < 500, r.text


def test_portal_device_filter_with_other_digits_is_a_page(
    web: PortalClient, tenants: dict[str, PortalOrg]
) -> None:
    web.sign_in(tenants["acme"].admin)
    for status in ("²", "99999999999999999999999"):
        r = web.get("/devices", params={"status": status})
        assert r.status_code in (200, 422), r.text[:300]
