"""Cloud Connect prices (``/cnc/pricing``, a provider setting) and each breakout's own AWS
cost so far at list prices: attachment-hours while Active, and the organisation's Cloud
Connect traffic shared by the breakouts active each day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from linkplane.api.deps import get_principal
from linkplane.attachments import cost
from linkplane.attachments.models import Breakout, BreakoutType, Status
from linkplane.db import transaction
from linkplane.events.models import Event
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal, Role
from linkplane.usage import service as usage
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def _breakout(fleet: Fleet, name: str, changes: list[tuple[datetime, Status]],
              type_id: int = BreakoutType.TGW, org: str = "acme") -> int:  # fmt: skip
    """A breakout with a status history (the events the workflow records)."""
    with transaction(fleet.ctx.sessionmaker) as session:
        row = Breakout(org_id=fleet.orgs[org], name=name, region="us-east-2", type_id=type_id,
                       aws_account_id="123456789012", vpc_cidrs=json.dumps(["10.1.0.0/24"]),
                       status_id=int(changes[-1][1]))  # fmt: skip
        session.add(row)
        session.flush()
        was = Status.PENDING_CUSTOMER_ACTION
        for when, to in changes:
            session.add(Event(org_id=row.org_id, timestamp=when, event_type="Breakout state "
                              "changed", description=f"{was} -> {to}", actor="workflow",
                              entity_type="breakout", entity_id=row.id,
                              detail=json.dumps({"from": int(was), "to": int(to)})))  # fmt: skip
            was = to
        return row.id


def _traffic(fleet: Fleet, gb: float, org: str = "acme") -> None:
    ep = fleet.new_endpoint(org).json()["id"]  # the seeded profile allows Cloud Connect
    half = int(gb * 10**9 / 2)
    rows = [usage.UsageIn(endpoint_id=ep, day=DAY.date(), bytes_tx=half, bytes_rx=half)]
    with transaction(fleet.ctx.sessionmaker) as session:
        usage.record_usage(session=session, rows=rows)


def test_cost_counts_active_hours_and_a_share_of_the_days_traffic(fleet: Fleet) -> None:
    ten_hours = _breakout(fleet, "a", [(DAY, Status.ACTIVE),
                                      (DAY + timedelta(hours=10), Status.DEACTIVATION_PENDING),
                                      (DAY + timedelta(hours=11), Status.DEACTIVATED)])
    other = _breakout(fleet, "b", [(DAY + timedelta(hours=1), Status.ACTIVE),
                                   (DAY + timedelta(hours=3), Status.ROLLING_BACK)])
    _breakout(fleet, "never active", [(DAY, Status.PENDING_AWS_ACTIVATION)])
    _traffic(fleet, gb=4.0)
    _traffic(fleet, gb=100.0, org="globex")  # another tenant's traffic never counts
    got = fleet.get(f"/api/v1/cnc/breakout/{ten_hours}/cost").json()
    assert got["active_hours"] == 10.0 and got["data_gb"] == 2.0  # 4 GB shared by two
    assert got["attachment_cost"] == 0.5 and got["data_cost"] == 0.04
    assert got["amount"] == 0.54 and got["currency"] == "USD"
    assert got["list_prices"] == {"attachment_hour": 0.05, "data_gb": 0.02,
                                  "vpn_connection_hour": 0.05}  # fmt: skip
    assert got["since"].startswith("2026-03-02T00:00")
    assert fleet.get(f"/api/v1/cnc/breakout/{other}/cost").json()["active_hours"] == 2.0
    assert fleet.get(f"/api/v1/cnc/breakout/{other}/cost", org="globex").status_code == 404


def test_a_breakout_still_active_counts_up_to_now_and_vpn_adds_its_hours(fleet: Fleet) -> None:
    bid = _breakout(fleet, "vpn", [(DAY, Status.ACTIVE)], type_id=BreakoutType.IPSEC_VPN)
    with fleet.ctx.sessionmaker() as session:
        found = cost.breakout_cost(session=session, settings=fleet.ctx.settings,
                                   org_id=fleet.orgs["acme"], breakout_id=bid,
                                   now=DAY + timedelta(hours=24))  # fmt: skip
    assert found.active_hours == 24.0
    assert round(found.attachment_usd, 6) == round(found.vpn_usd, 6) == 1.2
    assert found.data_gb == 0.0
    pending = _breakout(fleet, "pending", [(DAY, Status.PENDING_AWS_ACTIVATION)])
    assert fleet.get(f"/api/v1/cnc/breakout/{pending}/cost").json()["amount"] == 0.0


def test_pricing_is_the_providers_setting(fleet: Fleet) -> None:
    assert fleet.get("/api/v1/cnc/pricing", role="observer").json() == [
        {"id": 1, "breakout_type_id": 1, "amount": 99.0, "currency": {"id": 1}}]  # fmt: skip
    settings = Settings(data_dir=fleet.ctx.settings.data_dir,
                        cnc_monthly_prices={1: 250.0, 2: 300.5}, cnc_price_currency_id=2)
    app = create_app(settings, fleet.ctx.sessionmaker)
    app.dependency_overrides[get_principal] = lambda: Principal(
        user_id=None, org_id=fleet.orgs["acme"], role=Role.OBSERVER)  # fmt: skip
    with TestClient(app) as client:
        assert client.get("/api/v1/cnc/pricing").json() == [
            {"id": 1, "breakout_type_id": 1, "amount": 250.0, "currency": {"id": 2}},
            {"id": 2, "breakout_type_id": 2, "amount": 300.5, "currency": {"id": 2}},
        ]
    with pytest.raises(ValidationError, match="breakout type ids 1-8"):
        Settings(cnc_monthly_prices={9: 1.0})
