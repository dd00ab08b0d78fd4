"""The real portal in headless Chromium (Playwright, system Chromium).

Skipped with the reason when Playwright or Chromium is missing. Each test leaves a
screenshot of its last page in ``artifacts/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.portal.cloud import ADMIN, ADMIN_PASSWORD, UpPortal
from tests.portal.fleet import seed_fleet
from tests.portal.harness import LivePortal, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def trackers(live_portal: LivePortal) -> list[int]:
    """60 devices of ``acme``, each with an activated SIM."""
    return seed_fleet(live_portal.ctx, live_portal.orgs["acme"].id, 60, prefix="Tracker", serial=3)


def test_sign_in_page_through_60_devices_and_suspend_a_sim(
    live_portal: LivePortal, trackers: list[int], page: Any
) -> None:
    acme = live_portal.orgs["acme"]
    sign_in(page, live_portal.url, acme.admin)
    page.get_by_role("link", name="Connected Devices").click()
    summary = page.locator("#page-summary")
    assert summary.inner_text() == "1-10 from 60"
    page.get_by_label("Rows per page").select_option("25")
    page.wait_for_url(re.compile(r"per_page=25"))
    assert summary.inner_text() == "1-25 from 60"
    page.get_by_role("link", name="Next page").click()
    assert summary.inner_text() == "26-50 from 60"
    page.get_by_role("link", name="Next page").click()
    assert summary.inner_text() == "51-60 from 60"
    assert page.locator("#devices tbody tr").count() == 10
    assert page.get_by_role("link", name="Next page").count() == 0
    page.get_by_label("Name").fill("Tracker 57")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("#page-summary").inner_text() == "1-1 from 1"
    page.get_by_role("link", name="Tracker 57", exact=True).click()
    assert page.locator("#sim-status").inner_text() == "Activated"
    page.get_by_role("button", name="Suspend SIM").click()
    page.get_by_role("button", name="Activate SIM").wait_for()
    assert page.locator("#sim-status").inner_text() == "Suspended"


def test_the_content_security_policy_blocks_nothing_of_ours(
    live_portal: LivePortal, trackers: list[int], page: Any
) -> None:
    """With ``default-src 'self'`` and no inline script or style, the portal's own pages
    still work (htmx and portal.js load, the per-page select submits) and log no CSP
    violation."""
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page, live_portal.url, live_portal.orgs["acme"].admin)
    page.get_by_role("link", name="Connected Devices").click()
    page.get_by_label("Rows per page").select_option("25")
    page.wait_for_url(re.compile(r"per_page=25"))
    assert page.evaluate("typeof htmx") == "object"
    assert violations == []


def test_read_only_user_on_a_phone_sees_no_controls(
    live_portal: LivePortal, trackers: list[int], page: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    observer = live_portal.orgs["acme"].observer
    sign_in(page, live_portal.url, observer)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    sign_in(page, live_portal.url, observer)
    page.get_by_role("link", name="Cloud Connect").click()
    assert page.get_by_role("link", name="New breakout").count() == 0
    page.get_by_role("link", name="Connected Devices").click()
    page.locator("#devices a").first.click()
    page.locator("#sim-status").wait_for()
    assert page.get_by_role("button", name=re.compile("SIM|device")).count() == 0


def _fill_details(page: Any, *, name: str, account: str, cidrs: list[str]) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Region").select_option("eu-central-1")
    page.get_by_label("AWS account id").fill(account)
    for i, cidr in enumerate(cidrs):
        if i:
            page.get_by_role("button", name="Add another CIDR").click()
        page.get_by_label(f"CIDR {i + 1}").fill(cidr)
    page.get_by_label("Description").fill("orders backend")


def _wait_status(page: Any, text: str, timeout_ms: int = 60_000) -> None:
    """The page polls by itself (htmx); no reload here."""
    page.locator("#breakout-status", has_text=text).wait_for(timeout=timeout_ms)


def _create_through_wizard(page: Any, up: UpPortal, account: str, cidrs: list[str]) -> None:
    sign_in(page, up.url, ADMIN, ADMIN_PASSWORD)
    page.get_by_role("link", name="Cloud Connect").click()
    page.get_by_role("link", name="New breakout").click()
    page.get_by_label("Transit Gateway").check()
    page.get_by_role("button", name="Next").click()
    _fill_details(page, name="orders", account=account, cidrs=cidrs)
    page.get_by_role("button", name="Review").click()


def _share_arn(page: Any) -> str:
    command = page.locator("pre.cmd", has_text="--resource-share-arns arn:aws:ram")
    command.wait_for(timeout=30_000)
    found = re.search(r"--resource-share-arns (\S+)", command.inner_text())
    assert found is not None
    return found.group(1)


def test_breakout_through_the_wizard_to_active_and_deleted(up_portal: UpPortal, page: Any) -> None:
    account = "210987654321"
    # 10.255.0.0/16 is the core VPC: refused next to the CIDR, nothing created.
    _create_through_wizard(page, up_portal, account, ["10.77.0.0/24", "10.255.1.0/24"])
    error = page.locator("#vpc_cidr-1-error")
    assert "overlaps" in error.inner_text()
    page.get_by_label("CIDR 2").fill("10.78.0.0/24")
    page.get_by_role("button", name="Review").click()
    assert "10.77.0.0/24, 10.78.0.0/24" in page.locator("#review").inner_text()
    page.get_by_role("button", name="Create breakout").click()
    page.locator("#setup-started").wait_for()

    share_arn = _share_arn(page)
    assert page.locator("#invitation-expiry").inner_text().endswith("UTC")
    up_portal.accept_invitation(account, share_arn)
    _wait_status(page, "Pending AWS Activation")
    page.locator("#attachment-expiry").wait_for()
    attach_cmd = page.locator("pre.cmd", has_text="create-transit-gateway-vpc-attachment")
    tgw = re.search(r"--transit-gateway-id (tgw-\w+)", attach_cmd.inner_text())
    assert tgw is not None
    attachment = up_portal.attach_vpc(account, tgw.group(1), "10.77.0.0/24")
    _wait_status(page, "Active")
    assert attachment in page.locator("#live").inner_text()
    assert "--destination-cidr-block 100.64.0.0/10" in page.locator("#customer-steps").inner_text()

    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Yes, delete this breakout").click()
    _wait_status(page, "Deactivated")
    timeline = page.locator("#timeline").inner_text()
    assert "Active" in timeline and "Deactivated" in timeline


def test_expired_breakout_is_retried_from_its_page(
    up_portal_short_invitations: UpPortal, page: Any
) -> None:
    up = up_portal_short_invitations
    _create_through_wizard(page, up, "210987654322", ["10.79.0.0/24"])
    page.get_by_role("button", name="Create breakout").click()
    page.get_by_role("button", name="Retry").wait_for(timeout=30_000)
    assert "expired" in page.locator("#live").inner_text()
    page.get_by_role("button", name="Retry").click()
    _wait_status(page, "Pending Customer Action")
    _share_arn(page)
    assert "retried as revision 2" in page.locator("#timeline").inner_text()
