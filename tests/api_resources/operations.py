"""Operations routes in the isolation harness: no tenant data, no authentication.

``/metrics`` holds only counts across all tenants (no ids, names or CIDRs) and ``/ready``
only the state of dependencies; docs/deploy.md routes neither through the public load
balancer.
"""

from __future__ import annotations

from tests.api_harness import public

public("/health", "/ready", "/metrics")
