"""A static VPN breakout through the portal in headless Chromium (as tests/test_portal_browser.py:
``linkplane up`` in a subprocess, system Chromium; skipped with the reason when missing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.portal.cloud import ADMIN, ADMIN_PASSWORD, UpPortal
from tests.portal.harness import sign_in

pytestmark = pytest.mark.browser


def _wait_status(page: Any, text: str, timeout_ms: int = 60_000) -> None:
    """The page polls by itself (htmx); no reload here."""
    page.locator("#breakout-status", has_text=text).wait_for(timeout=timeout_ms)


def _download(page: Any, link: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    download = info.value
    assert download.failure() is None
    return Path(download.path()).read_text()


def test_static_vpn_through_the_wizard_and_its_configuration_download(
    up_portal: UpPortal, page: Any
) -> None:
    sign_in(page, up_portal.url, ADMIN, ADMIN_PASSWORD)
    page.get_by_role("link", name="Cloud Connect").click()
    page.get_by_role("link", name="New breakout").click()
    page.get_by_label("IPSec VPN", exact=True).check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name").fill("data centre")
    page.get_by_label("Region").select_option("eu-central-1")
    # A private address and the core VPC's range: both refused next to their fields.
    page.get_by_label("Public IP of your VPN server").fill("192.168.7.1")
    page.get_by_label("CIDR 1").fill("10.81.0.0/24")
    page.get_by_role("button", name="Add another CIDR").click()
    page.get_by_label("CIDR 2").fill("10.255.1.0/24")
    page.get_by_role("button", name="Review").click()
    assert "not a public address" in page.locator("#public_ip-error").inner_text()
    assert "overlaps" in page.locator("#on_prem_cidr-1-error").inner_text()
    page.get_by_label("Public IP of your VPN server").fill("81.2.69.77")
    page.get_by_label("CIDR 2").fill("10.82.0.0/24")
    page.get_by_label("Pre-shared key (optional)").fill("browser.key_77")
    page.get_by_role("button", name="Review").click()
    review = page.locator("#review").inner_text()
    assert "81.2.69.77" in review and "10.81.0.0/24, 10.82.0.0/24" in review
    page.get_by_role("button", name="Create breakout").click()
    page.locator("#setup-started").wait_for()

    _wait_status(page, "Active")
    tunnels = page.locator("#vpn-tunnels tr.vpn-tunnel")
    tunnels.nth(1).wait_for()
    outside = [tunnels.nth(i).locator("td").first.inner_text() for i in range(tunnels.count())]
    assert len(outside) == 2 and all(outside), outside
    assert "DOWN" in page.locator("#vpn-tunnels").inner_text()  # no router connected yet

    strongswan = _download(page, "Download for strongSwan")
    generic = _download(page, "Download (generic)")
    for text in (strongswan, generic):
        assert all(address in text for address in outside), text
        assert "browser.key_77" in text and "10.81.0.0/24" in text
    assert "connections {" in strongswan and "[tunnel 2]" in generic

    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Yes, delete this breakout").click()
    _wait_status(page, "Deactivated")
