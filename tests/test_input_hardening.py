"""Issue 13, the input items of "Low": account ids, 409s that named another tenant's address
space, control characters, LIKE wildcards, unknown fields and consistent error field names.
Each test failed before its fix."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.devices.models import Endpoint
from linkplane.process.app import create_app
from linkplane.settings import Settings
from tests.api_harness import Harness, build
from tests.api_resources.breakouts import _region
from tests.portal.client import PortalClient
from tests.portal.fleet import seed_fleet
from tests.portal.harness import Org as PortalOrg


@pytest.fixture(scope="module")
def h(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("input"))
    ctx = open_context(settings)
    with TestClient(create_app(settings, ctx.sessionmaker), raise_server_exceptions=False) as c:
        yield build(c, settings, ctx.sessionmaker)
    ctx.close()


def _tgw(**over: Any) -> dict[str, Any]:
    body = {"type": 1, "name": "bo", "vpc_cidr": ["10.201.0.0/24"], "region": "eu-central-1",
            "aws_account_id": "222222222222"}  # fmt: skip
    return {**body, **over}


def _errors(r: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in r.json()["errors"]}


# --- aws_account_id ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account", ["\uff11" * 12, "12345678901\uff12", "123456789012\n", "١٢٣٤٥٦٧٨٩٠١٢"]
)
def test_account_ids_are_ascii_digits_only(h: Harness, account: str) -> None:
    r = h.client.post("/api/v1/cnc/breakout/tgw", json=_tgw(aws_account_id=account),
                      headers=h.owner.admin)  # fmt: skip
    assert r.status_code == 422, r.text
    assert "12 digits 0-9" in _errors(r)["aws_account_id"]


def test_the_providers_own_accounts_are_refused(h: Harness) -> None:
    _region(h)  # its TGW is owned by account 111111111111
    for account in (h.settings.provider_account_id, "111111111111"):
        r = h.client.post("/api/v1/cnc/breakout/tgw", json=_tgw(aws_account_id=account),
                          headers=h.owner.admin)  # fmt: skip
        assert r.status_code == 422, r.text
        assert "provider's own AWS account" in _errors(r)["aws_account_id"]


# --- a 409 never names another tenant's address space ----------------------------------------


def test_overlapping_address_space_of_another_tenant_is_not_named(h: Harness) -> None:
    mine = h.client.post("/api/v1/ip_address_space", json={"ip_address_space": "100.97.4.0/24"},
                         headers=h.owner.admin)  # fmt: skip
    assert mine.status_code == 201, mine.text
    overlapping = {"ip_address_space": "100.97.4.0/25"}
    theirs = h.client.post("/api/v1/ip_address_space", json=overlapping, headers=h.other.admin)
    assert theirs.status_code == 409, theirs.text
    assert "100.97.4.0/24" not in theirs.text and "in use" in theirs.text
    own = h.client.post("/api/v1/ip_address_space", json={"ip_address_space": "100.97.4.128/25"},
                        headers=h.owner.admin)  # fmt: skip
    assert own.status_code == 409 and "100.97.4.0/24" in own.text, own.text


# --- control characters -------------------------------------------------------------------------

CONTROLS = ["\x00", "\x1b", "\x07", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"]


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_control_characters_in_names_are_refused(h: Harness, char: str) -> None:
    cases = [
        ("POST", "/api/v1/endpoint", {"name": f"a{char}b"}, "name"),
        ("POST", "/api/v1/service_profile", {"name": f"sp{char}"}, "name"),
        ("POST", "/api/v1/cnc/breakout/tgw", _tgw(name=f"x{char}y"), "name"),
        ("POST", "/api/v1/cnc/breakout/tgw", _tgw(description=f"d{char}"), "description"),
        ("POST", "/api/v2/endpoint/multi", {"endpoints": [{"name": "ok"}, {"name": f"n{char}"}]},
         "endpoints[1].name"),
    ]  # fmt: skip
    for method, path, body, field in cases:
        r = h.client.request(method, path, json=body, headers=h.owner.admin)
        assert r.status_code == 422, f"{path}: {r.text}"
        assert f"U+{ord(char):04X}" in _errors(r)[field], r.text


def test_newlines_are_refused_in_names_but_not_in_descriptions(h: Harness) -> None:
    r = h.client.post("/api/v1/service_profile", json={"name": "a\nb"}, headers=h.owner.admin)
    assert r.status_code == 422 and "name" in _errors(r), r.text
    r = h.client.post("/api/v1/service_profile", json={"name": h.unique("sp"),
                      "description": "line 1\nline 2\ttab"}, headers=h.owner.admin)  # fmt: skip
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def evil_device(portal_ctx: tuple[AppContext, dict[str, PortalOrg]]) -> int:
    """A device whose stored name carries a bidi override and an ESC (as rows written before
    the API refused them, or by an import, may)."""
    ctx, tenants = portal_ctx
    device = seed_fleet(ctx, tenants["acme"].id, 1, prefix="Evil", serial=8)[0]
    with transaction(ctx.sessionmaker) as session:
        session.execute(update(Endpoint).where(Endpoint.id == device)
                        .values(name="invoice\u202egpj.exe\x1b[31m"))  # fmt: skip
    return device


def test_stored_control_characters_are_shown_escaped_in_html(
    web: PortalClient, tenants: dict[str, PortalOrg], evil_device: int
) -> None:
    web.sign_in(tenants["acme"].admin)
    for page in (f"/devices/{evil_device}", "/devices?per_page=50"):
        html = web.get(page).text
        assert "\u202e" not in html and "\x1b" not in html, page
        assert "invoice\\u202egpj.exe\\u001b[31m" in html, page


# --- LIKE wildcards -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "q"),
    [("/api/v1/event", "description:%"), ("/api/v1/event", "description:_"),
     ("/api/v1/event", "user:%"), ("/api/v1/user", "username:_"), ("/api/v1/user", "name:%")],
)  # fmt: skip
def test_percent_and_underscore_are_literal_in_filters(h: Harness, path: str, q: str) -> None:
    everything = h.client.get(path, headers=h.owner.admin)
    assert everything.status_code == 200 and everything.json(), everything.text
    r = h.client.get(path, params={"q": q}, headers=h.owner.admin)
    assert r.status_code == 200, r.text
    assert r.json() == [], f"{q} acted as a wildcard: {len(r.json())} rows"


# --- unknown fields and error field names -----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/cnc/breakout/tgw", _tgw(colour="red")),
        ("POST", "/api/v1/ip_address_space", {"ip_address_space": "100.97.9.0/24", "colour": 1}),
        ("POST", "/api/v1/endpoint", {"name": "x", "colour": "red"}),
        ("PATCH", "/api/v1/sim/1", {"colour": "red"}),
        ("POST", "/api/v1/service_profile", {"name": "x", "colour": "red"}),
        ("POST", "/api/v1/tariff_profile", {"name": "x", "colour": "red"}),
    ],
)
def test_unknown_body_fields_are_refused(
    h: Harness, method: str, path: str, body: dict[str, Any]
) -> None:
    r = h.client.request(method, path, json=body, headers=h.owner.admin)
    assert r.status_code == 422, r.text
    assert "unknown field" in _errors(r)["colour"], r.text


def test_every_request_body_refuses_unknown_fields() -> None:
    """Static: each body's top-level object says additionalProperties false, so a new body
    model that forgets ``extra="forbid"`` fails here. /authenticate is the auth work's (its
    malformed bodies answer 400 as emnify's spec says) and is left out."""
    spec = create_app(Settings(data_dir=Path("/nonexistent-linkplane")), None).openapi()  # type: ignore[arg-type]
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    lax = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for content in op.get("requestBody", {}).get("content", {}).values():
                schema = resolve(content["schema"])
                if schema.get("type") == "array":
                    schema = resolve(schema["items"])
                if (
                    schema.get("type") == "object"
                    and schema.get("additionalProperties") is not False
                ):
                    lax.append(f"{method.upper()} {path}")
    assert lax == ["POST /api/v1/authenticate"], lax


def test_list_items_are_named_with_brackets(h: Harness) -> None:
    for cidrs in ([5], ["10.0.0.0/33"], ["10.202.0.0/24", "nonsense"]):
        r = h.client.post("/api/v1/cnc/breakout/tgw", json=_tgw(vpc_cidr=cidrs),
                          headers=h.owner.admin)  # fmt: skip
        assert r.status_code == 422, r.text
        fields = list(_errors(r))
        assert fields and all(f.startswith("vpc_cidr[") for f in fields), fields
        assert not any("vpc_cidr." in f for f in fields), fields


def test_invalid_json_is_named_body(h: Harness) -> None:
    for raw in (b'{"name": ', b"[1, 2", b"\xff"):
        r = h.client.post("/api/v1/endpoint", content=raw, headers={
            **h.owner.admin, "Content-Type": "application/json"})  # fmt: skip
        assert r.status_code in (400, 422), r.text  # 400: not even text
        assert list(_errors(r)) == ["body"], r.text
        assert "JSON" in _errors(r)["body"]


def test_portal_wizard_refuses_control_characters_in_names(
    web: PortalClient, tenants: dict[str, PortalOrg]
) -> None:
    web.sign_in(tenants["acme"].admin)
    form = {"name": "backend\u202eexe", "region": "eu-central-1", "type": "1",
            "aws_account_id": "210987654321", "description": "d\x1b[2J",
            "vpc_cidr": ["10.1.0.0/24"]}  # fmt: skip
    form["csrf_token"] = web.csrf("/cloud-connect/new/details")
    r = web.post("/cloud-connect/new/review", data=form)
    assert r.status_code == 422, r.text[:300]
    assert re.search(r'id="name-error"[^>]*>[^<]*U\+202E', r.text), r.text
    assert re.search(r'id="description-error"[^>]*>[^<]*U\+001B', r.text), r.text
    assert "\u202e" not in r.text and "\x1b" not in r.text


def test_imei_is_ascii_digits_only(h: Harness) -> None:
    def made(path: str, body: dict[str, Any]) -> int:
        return h.location_id(h.client.post(path, json=body, headers=h.owner.admin))

    sp = made("/api/v1/service_profile", {"name": h.unique("sp")})
    tp = made("/api/v1/tariff_profile", {"name": h.unique("tp")})
    device = made("/api/v1/endpoint", {"name": h.unique("ep"), "status": {"id": 0},
                  "service_profile": {"id": sp}, "tariff_profile": {"id": tp}})  # fmt: skip
    path = f"/api/v1/endpoint/{device}"
    for imei in ("\uff13" * 15, "٣" * 15, "35" + "²" * 13):
        r = h.client.patch(path, json={"imei": imei}, headers=h.owner.admin)
        assert r.status_code == 422, r.text
        assert "digits 0-9" in _errors(r)["imei"]
    assert h.client.patch(path, json={"imei": "3" * 15}, headers=h.owner.admin).status_code == 204
