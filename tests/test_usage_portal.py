"""The dashboard chart and the devices table show recorded usage (no stand-in source)."""

from __future__ import annotations

import re

import pytest

from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.usage import service
from linkplane.usage.service import UsageIn
from tests.portal.client import PortalClient
from tests.portal.fleet import seed_fleet
from tests.portal.harness import Org


@pytest.fixture(scope="module")
def fleets(portal_ctx: tuple[AppContext, dict[str, Org]]) -> dict[str, list[int]]:
    ctx, tenants = portal_ctx
    return {
        "acme": seed_fleet(ctx, tenants["acme"].id, 3, prefix="Acme meter", serial=1),
        "globex": seed_fleet(ctx, tenants["globex"].id, 2, prefix="Globex meter", serial=2),
    }


def test_usage_appears_once_records_exist(
    web: PortalClient, portal_ctx: tuple[AppContext, dict[str, Org]],
    fleets: dict[str, list[int]],
) -> None:  # fmt: skip
    ctx, tenants = portal_ctx
    web.sign_in(tenants["acme"].admin)
    assert "No usage data yet." in web.get("/").text
    assert "60 MB" not in web.get("/devices").text
    today = service.today_utc()
    first, second = fleets["acme"][:2]
    rows = [
        UsageIn(endpoint_id=first, day=today, bytes_tx=10_000_000, bytes_rx=50_000_000),
        UsageIn(endpoint_id=second, day=today, bytes_tx=0, bytes_rx=40_000_000),
    ]
    with transaction(ctx.sessionmaker) as session:
        service.record_usage(session=session, rows=rows)
    dashboard = web.get("/").text
    assert "No usage data yet." not in dashboard
    assert dashboard.count("<rect") == 30 and "Peak day: 100 MB." in dashboard
    table = web.get("/devices").text
    row = re.search(rf'<a href="/devices/{first}">.*?</tr>', table, re.S)
    assert row is not None and "60 MB" in row.group(0)
    assert "40 MB" in table and "no usage" in table  # the third device had no traffic
    assert "60 MB" in web.get(f"/devices/{first}").text


def test_another_organisation_sees_none_of_it(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["globex"].admin)  # after acme's records of the test above
    assert "No usage data yet." in web.get("/").text
    assert "no usage" in web.get("/devices").text
