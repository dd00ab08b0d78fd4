"""Prometheus metrics: what every process counts, and what a scrape reads from the databases.

Counters and histograms are module-level, as prometheus-client intends, but registered in
no registry of their own: each served app builds one
(:func:`linkplane.ops.collectors.build_registry`) that adds them, the process collector and
the collectors reading its own databases, so tests (and ``up``) can build several apps in
one process. This module is a leaf (the adapter and the workflow runtime import it); what
reads the databases is in :mod:`linkplane.ops.collectors`.

Names (all prefixed ``linkplane_``):

- ``aws_calls_total{service,action,outcome}``: every AWS request the adapter sent, with how
  AWS answered: ``ok``, ``throttled`` (refused for rate; retried), ``retried`` (another
  retryable error: 5xx, timeout, dropped connection) or ``failed`` (a permanent error).
- ``aws_budget_wait_seconds{service,action_class}``: waits for the client-side rate budget.
- ``workflow_step_seconds{step}``, ``workflow_step_failures_total{step}``: each attempt of
  a workflow step (``step`` is the step's name without ids and CIDRs).
- ``isolation_last_findings{check,code}``: findings of the last ``verify``/``audit`` this
  process ran (the reconciler runs in workers; 0 once a code is gone);
  ``isolation_findings_total{check,code}`` counts them all.
- ``breakouts{status,type}``: breakouts by state and type (read at each scrape).
- ``workflow_queue_depth{queue}``, ``workflow_queue_oldest_age_seconds{queue}``: workflow
  starts waiting for a worker, and how long the oldest has waited (read at each scrape).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.registry import Collector

from linkplane.cloud.errors import CloudError, Throttled

T = TypeVar("T")

AWS_CALLS = Counter(
    "linkplane_aws_calls", "AWS requests by service, action and outcome",
    ["service", "action", "outcome"], registry=None,
)  # fmt: skip
AWS_BUDGET_WAIT = Histogram(
    "linkplane_aws_budget_wait_seconds", "Waits of AWS requests for the client-side budget",
    ["service", "action_class"], registry=None,
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
STEP_SECONDS = Histogram(
    "linkplane_workflow_step_seconds", "Duration of workflow step attempts", ["step"],
    registry=None, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)  # fmt: skip
STEP_FAILURES = Counter(
    "linkplane_workflow_step_failures", "Workflow step attempts that raised", ["step"],
    registry=None,
)  # fmt: skip
FINDINGS = Gauge(
    "linkplane_isolation_last_findings", "Findings of the last verify or audit in this process",
    ["check", "code"], registry=None,
)  # fmt: skip
FINDINGS_TOTAL = Counter(
    "linkplane_isolation_findings", "Findings of every verify or audit in this process",
    ["check", "code"], registry=None,
)  # fmt: skip
PROCESS_METRICS: tuple[Collector, ...] = (
    AWS_CALLS, AWS_BUDGET_WAIT, STEP_SECONDS, STEP_FAILURES, FINDINGS, FINDINGS_TOTAL,
)  # fmt: skip


# --- what the code reports ------------------------------------------------------------------
def aws_outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, Throttled):
        return "throttled"
    if isinstance(exc, CloudError) and exc.retryable:
        return "retried"
    return "failed"


def aws_call(service: str, action: str, exc: BaseException | None = None) -> None:
    AWS_CALLS.labels(service, action, aws_outcome(exc)).inc()


def step_kind(name: str) -> str:
    """A step name without its ids and CIDRs ("route 10.1.0.0/24" -> "route"), so that the
    label has a few values, not one per breakout."""
    words = [w for w in name.split() if not any(ch.isdigit() for ch in w)]
    return " ".join(words) or "step"


def timed_step(name: str, run: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """``run`` timed into the step metrics (each attempt DBOS makes is one observation)."""
    kind = step_kind(name)

    async def timed() -> T:
        start = time.perf_counter()
        try:
            return await run()
        except BaseException:
            STEP_FAILURES.labels(kind).inc()
            raise
        finally:
            STEP_SECONDS.labels(kind).observe(time.perf_counter() - start)

    return timed


_reported: dict[str, set[str]] = {}


def findings(check: str, codes: Iterable[str]) -> None:
    """Record what one ``verify`` or ``audit`` found (codes repeat once per finding)."""
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
        FINDINGS_TOTAL.labels(check, code).inc()
    seen = _reported.setdefault(check, set())
    for code in seen - counts.keys():  # fixed since: back to 0 rather than vanishing
        FINDINGS.labels(check, code).set(0)
    for code, count in counts.items():
        FINDINGS.labels(check, code).set(count)
    seen.update(counts)
