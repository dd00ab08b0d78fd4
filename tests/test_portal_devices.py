"""The Connected Devices table and a device's page (no browser)."""

from __future__ import annotations

import re

import pytest

from linkplane.context import AppContext
from tests.portal.client import PortalClient
from tests.portal.fleet import seed_fleet
from tests.portal.harness import Org


@pytest.fixture(scope="module")
def fleets(portal_ctx: tuple[AppContext, dict[str, Org]]) -> dict[str, list[int]]:
    ctx, tenants = portal_ctx
    return {
        "acme": seed_fleet(ctx, tenants["acme"].id, 9, prefix="GPS tracker", serial=1),
        "globex": seed_fleet(ctx, tenants["globex"].id, 3, prefix="Globex meter", serial=2),
    }


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/devices/\d+">([^<]+)</a>', html)


def test_table_pages_with_counts_like_the_talk(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    page = web.get("/devices?per_page=5").text
    for column in ("Name", "Status", "SIM", "IP address", "Service profile", "Tariff profile",
                   "Monthly usage"):  # fmt: skip
        assert f">{column}</th>" in page
    assert "1-5 from 9" in page
    assert _names(page) == [f"GPS tracker {i}" for i in range(1, 6)]
    assert "GPS tracker service" in page and "no usage" in page
    second = web.get("/devices?per_page=5&page=2").text
    assert "6-9 from 9" in second and len(_names(second)) == 4
    assert 'rel="next"' not in second


def test_rows_per_page_is_one_of_the_offered_choices(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    assert "1-9 from 9" in web.get("/devices?per_page=25").text
    assert "1-9 from 9" in web.get("/devices?per_page=7").text  # not offered: default 10


def test_filter_by_name_and_status(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    assert _names(web.get("/devices", params={"name": "tracker 3"}).text) == ["GPS tracker 3"]
    assert "0-0 from 0" in web.get("/devices", params={"status": "1"}).text
    assert "1-9 from 9" in web.get("/devices", params={"status": "0"}).text


def test_other_organisations_devices_never_appear(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    page = web.get("/devices?per_page=50").text
    assert "Globex" not in page
    other = fleets["globex"][0]
    assert web.get(f"/devices/{other}").status_code == 404
    token = web.csrf(f"/devices/{fleets['acme'][0]}")
    response = web.post(f"/devices/{other}/status", data={"csrf_token": token, "status": "1"})
    assert response.status_code == 404


def test_admin_disables_and_enables_a_device(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    device = f"/devices/{fleets['acme'][8]}"
    assert "Disable device" in web.get(device).text
    response = web.submit(f"{device}/status", device, status="1")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = web.get(device).text
    assert "Enable device" in page and ">Disabled<" in page
    web.submit(f"{device}/status", device, status="0")
    assert ">Enabled<" in web.get(device).text


def test_admin_suspends_and_reactivates_a_sim(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    device = f"/devices/{fleets['acme'][7]}"
    assert "Suspend SIM" in web.get(device).text
    web.submit(f"{device}/sim-status", device, status="2")
    page = web.get(device).text
    assert ">Suspended<" in page and "Activate SIM" in page and "Suspend SIM" not in page
    web.submit(f"{device}/sim-status", device, status="1")
    assert ">Activated<" in web.get(device).text


def test_an_illegal_sim_transition_shows_the_services_message(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    device = f"/devices/{fleets['acme'][6]}"
    response = web.submit(f"{device}/sim-status", device, status="0")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "cannot go from Activated to Issued" in response.text  # type: ignore[attr-defined]


def test_observer_sees_everything_and_changes_nothing(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].observer)
    device = f"/devices/{fleets['acme'][0]}"
    page = web.get(device).text
    assert "GPS tracker 1" in page and ">Activated<" in page
    assert "Disable device" not in page and "Suspend SIM" not in page
    token = web.csrf(device)  # the sign-out form's token is still a valid session token
    for action, status in (("status", "1"), ("sim-status", "2")):
        response = web.post(f"{device}/{action}", data={"csrf_token": token, "status": status})
        assert response.status_code == 403
    assert ">Enabled<" in web.get(device).text


def test_dashboard_counts_by_status_and_no_usage_yet(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["globex"].admin)
    page = web.get("/").text
    assert re.search(r"<span>Enabled</span><strong>3</strong>", page)
    assert re.search(r"<span>Activated</span><strong>3</strong>", page)
    assert "No usage data yet." in page


def test_dashboard_charts_usage_once_a_source_has_data(
    web: PortalClient,
    tenants: dict[str, Org],
    fleets: dict[str, list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import date, timedelta
    from types import SimpleNamespace

    from linkplane.portal import usage

    start = date(2026, 11, 1)
    days = [(start + timedelta(days=i), (i + 1) * 10_000_000) for i in range(10)]
    source = SimpleNamespace(
        daily_usage=lambda **_: days,
        monthly_usage=lambda *, endpoint_ids, **_: {i: 60_000_000 for i in endpoint_ids},
    )
    monkeypatch.setattr(usage, "_source", lambda: source)
    web.sign_in(tenants["globex"].admin)
    page = web.get("/").text
    assert page.count("<rect") == 10 and "Peak day: 100 MB." in page
    assert "60 MB" in web.get("/devices").text


def test_a_page_past_the_end_shows_the_last_page(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]]
) -> None:
    web.sign_in(tenants["acme"].admin)
    page = web.get("/devices?per_page=5&page=40").text
    assert "6-9 from 9" in page and len(_names(page)) == 4


def test_device_page_shows_its_quotas_and_latest_sms(
    web: PortalClient, tenants: dict[str, Org], fleets: dict[str, list[int]],
    portal_ctx: tuple[AppContext, dict[str, Org]],
) -> None:  # fmt: skip
    from datetime import timedelta

    from linkplane.db import transaction, utcnow
    from linkplane.quotas import service as quotas
    from linkplane.quotas.models import QuotaKind
    from linkplane.quotas.schemas import QuotaIn
    from linkplane.sms import service as sms
    from linkplane.sms.schemas import SmsIn

    ctx, _ = portal_ctx
    org, endpoint = tenants["acme"].id, fleets["acme"][5]
    web.sign_in(tenants["acme"].observer)
    page = web.get(f"/devices/{endpoint}").text
    assert "No data or SMS quota is set" in page and "No SMS yet." in page
    quota = QuotaIn.model_validate(
        {"status": {"id": 1}, "volume": 12.5, "expiry_date": utcnow() + timedelta(days=3)}
    )
    with transaction(ctx.sessionmaker) as session:
        quotas.set_quota(session=session, org_id=org, endpoint_id=endpoint, kind=QuotaKind.DATA,
                         data=quota)  # fmt: skip
        sms.submit(session=session, org_id=org, endpoint_id=endpoint,
                   data=SmsIn(payload="<reboot>"), validity=timedelta(hours=1))  # fmt: skip
    page = web.get(f"/devices/{endpoint}").text
    assert re.search(r"Data quota</dt><dd><span[^>]*>ACTIVE</span> 12.5 MB left", page)
    assert "&lt;reboot&gt;" in page and "to device" in page and ">Pending<" in page
