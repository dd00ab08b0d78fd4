"""The Cloud Connect API contract: validation (4xx naming the field), scoping, listing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_breakouts_support import REGION, Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture

URL = "/api/v1/cnc/breakout/tgw"


def _post(stack: Stack, **changes: Any) -> Any:
    body = {"type": 1, "name": "v", "vpc_cidr": new_cidrs(), "region": REGION,
            "aws_account_id": new_account(), **changes}  # fmt: skip
    return stack.client.post(URL, json=body)


def _field(resp: Any) -> str:
    errors = resp.json()["errors"]
    assert errors, resp.text
    field: str = errors[0]["field"]
    return field


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"vpc_cidr": ["10.0.0.300/24"]}, 422, "vpc_cidr[0]"),
        ({"vpc_cidr": ["8.8.8.0/24"]}, 422, "vpc_cidr[0]"),
        ({"vpc_cidr": ["100.64.1.0/24"]}, 422, "vpc_cidr[0]"),
        ({"vpc_cidr": ["10.255.1.0/24"]}, 422, "vpc_cidr[0]"),  # the core VPC
        ({"vpc_cidr": ["10.0.0.0/8"]}, 422, "vpc_cidr[0]"),  # larger than /16
        ({"vpc_cidr": [f"10.200.{i}.0/24" for i in range(11)]}, 422, "vpc_cidr"),
        ({"vpc_cidr": []}, 422, "vpc_cidr"),
        ({"aws_account_id": "12345"}, 422, "aws_account_id"),
        ({"region": "mars-north-1"}, 422, "region"),
        ({"region": "us-west-2"}, 422, "region"),  # known, not bootstrapped
        ({"type": 2}, 422, "type"),
        ({"type": 9}, 422, "type"),
        ({"name": ""}, 422, "name"),
    ],
)
def test_validation_names_the_field(
    stack: Stack, changes: dict[str, Any], status: int, field: str
) -> None:
    before = stack.client.get("/api/v1/cnc/breakout").headers["X-Total-Count"]
    resp = _post(stack, **changes)
    assert resp.status_code == status, resp.text
    assert _field(resp) == field
    assert stack.client.get("/api/v1/cnc/breakout").headers["X-Total-Count"] == before


def test_overlap_with_another_breakout_on_the_tgw(stack: Stack) -> None:
    taken = new_cidrs()
    assert _post(stack, vpc_cidr=taken).status_code == 201
    resp = _post(stack, vpc_cidr=[taken[0].replace("/24", "/25")])
    assert resp.status_code == 422 and _field(resp) == "vpc_cidr[0]"
    assert "breakout" in resp.json()["message"]


def test_route_quota(stack: Stack) -> None:
    app = stack.client.app
    app.state.settings = stack.settings.model_copy(update={"tgw_route_quota": 3})  # type: ignore[attr-defined]
    try:
        resp = _post(stack, vpc_cidr=new_cidrs(5))
    finally:
        app.state.settings = stack.settings  # type: ignore[attr-defined]
    assert resp.status_code == 422 and _field(resp) == "vpc_cidr"
    assert "quota" in resp.json()["message"]


def test_create_returns_location_and_emnify_fields(stack: Stack) -> None:
    resp = _post(stack)
    assert resp.status_code == 201
    body = resp.json()
    assert resp.headers["Location"] == f"http://testserver/api/v1/cnc/breakout/{body['id']}"
    assert body["type"] == {"id": 1, "description": "Transit Gateway"}
    assert body["status"] == {"id": 1, "description": "Pending Customer Action"}
    for key in ("id", "name", "description", "creation_date", "region", "user_id"):
        assert key in body
    assert "accept_attachment_expiry_date" not in body  # only shown in status 2


def test_other_organisation_sees_nothing(stack: Stack) -> None:
    bid = _post(stack).json()["id"]
    other, client = stack.auth["other"], stack.client
    assert client.get(f"/api/v1/cnc/breakout/{bid}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/cnc/breakout/{bid}", headers=other).status_code == 404
    assert client.patch(f"/api/v1/cnc/breakout/{bid}", headers=other).status_code == 404
    assert client.get(f"/api/v1/cnc/breakout/{bid}/event", headers=other).status_code == 404
    assert client.get("/api/v1/cnc/breakout", headers=other).json() == []


def test_read_only_user_cannot_create(stack: Stack) -> None:
    body = {"type": 1, "name": "v", "vpc_cidr": new_cidrs(), "region": REGION,
            "aws_account_id": new_account()}  # fmt: skip
    resp = stack.client.post(URL, json=body, headers=stack.auth["observer"])
    assert resp.status_code == 403
    assert stack.client.get("/api/v1/cnc/breakout", headers=stack.auth["observer"]).is_success


def test_list_filters_and_pagination(stack: Stack) -> None:
    for _ in range(3):
        assert _post(stack).status_code == 201
    resp = stack.client.get("/api/v1/cnc/breakout", params={"per_page": 2, "page": 1})
    assert resp.status_code == 200 and len(resp.json()) == 2
    total = int(resp.headers["X-Total-Count"])
    assert total >= 3 and resp.headers["X-Total-Pages"] == str((total + 1) // 2)
    none = stack.client.get("/api/v1/cnc/breakout", params={"status": 8}).json()
    assert none == []
    tgw = stack.client.get("/api/v1/cnc/breakout", params={"type": 1}).json()
    assert all(b["type"]["id"] == 1 for b in tgw)


def test_patch_refused_unless_expired(stack: Stack) -> None:
    bid = _post(stack).json()["id"]
    resp = stack.client.patch(f"/api/v1/cnc/breakout/{bid}")
    assert resp.status_code == 409


def test_types_and_regions(stack: Stack) -> None:
    types = stack.client.get("/api/v1/cnc/breakout_type").json()
    assert [t["id"] for t in types] == [1, 2, 3, 4, 5]
    regions = stack.client.get("/api/v1/cnc/breakout_type/1/available_region").json()
    assert regions == [{"attachment_region": REGION, "device_breakout_region": REGION}]
    assert stack.client.get("/api/v1/cnc/breakout_type/2/available_region").json() == regions
    assert stack.client.get("/api/v1/cnc/breakout_type/4/available_region").json() == regions
    assert stack.client.get("/api/v1/cnc/breakout_type/5/available_region").json() == []
    assert stack.client.get("/api/v1/cnc/breakout_type/42/available_region").status_code == 404


def test_vpn_ha_needs_its_second_server(stack: Stack) -> None:
    body = {"type": {"id": "4"}, "name": "ha", "region": REGION, "public_ip": "81.2.69.200",
            "asn": 65000, "on_prem_cidr": ["10.99.0.0/24"]}  # fmt: skip
    resp = stack.client.post("/api/v1/cnc/breakout/vpn", json=body)
    assert resp.status_code == 422 and _field(resp) == "public_ip_2"


def test_dead_executor_is_recovered(stack: Stack) -> None:
    from datetime import timedelta

    from linkplane.db import transaction, utcnow
    from linkplane.durable.executors import Heartbeat
    from linkplane.durable.models import ExecutorHeartbeat

    rt = stack.runtime
    version = rt.settings.dbos_application_version
    with transaction(rt.sessions) as session:
        for gone, of in (("gone-host-1", version), ("other-version-1", "linkplane-0")):
            session.add(ExecutorHeartbeat(executor_id=gone, application_version=of,
                                          last_seen=utcnow() - timedelta(hours=1)))  # fmt: skip
    beat = Heartbeat(rt.settings, rt.sessions, rt.executor_id)
    assert beat.recover_dead() == ["gone-host-1"]
    assert beat.recover_dead() == []  # claimed once: the row is gone
    with rt.sessions() as session:  # another version's executor is left to its own kind
        assert session.get(ExecutorHeartbeat, "other-version-1") is not None
