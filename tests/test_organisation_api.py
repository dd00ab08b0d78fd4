"""Organisation routes of emnify's organization.yml that are not tenancy: lookups, tariff,
inclusive volumes (the statistics are in tests/test_usage_api.py)."""

from __future__ import annotations

from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]


def test_status_lookup_is_not_captured_by_the_id_route(fleet: Fleet) -> None:
    """issue 12 defect 7: /organisation/status answered 422 from /organisation/{org_id}."""
    r = fleet.get("/api/v1/organisation/status", role="observer")
    assert r.status_code == 200, r.text
    assert r.json() == [{"id": 0, "description": "Enabled"}]
