"""Routes added for emnify API parity (issue 12): organisation lookups and fleet extras."""

from __future__ import annotations

from tests.api_harness import lookup

lookup("/api/v1/organisation/status")
