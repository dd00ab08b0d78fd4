"""What features plug into each other and into the durable runtime, registered by the roots.

Two kinds of hook, each registered in exactly one function here and called by the roots
(never as a side effect of launching something else):

- :func:`register_reserved_cidrs`: addressing refuses IP address spaces overlapping the CIDRs
  of live breakouts (``linkplane.addressing`` never imports the breakouts). Every process
  kind that changes address spaces needs it: ``serve``, ``up``, the CLI.
- :func:`install_workflows`: what a process that runs workflows adds to its runtime: the
  breakout workflows (sweep, watcher), the sign-in housekeeping and, after a breakout's
  routes changed, the core policy step of isolation. Every such process registers the same
  hooks, so a workflow replays the same steps wherever it is taken over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # serve registers its hooks without loading the runtime
    from linkplane.durable.runtime import Runtime


def register_reserved_cidrs() -> None:
    from linkplane.addressing.service import register_reserved_cidr_source
    from linkplane.attachments.service import reserved_cidr_source

    register_reserved_cidr_source(reserved_cidr_source)


def _core_policy(rt: Runtime) -> str:
    from linkplane.isolation.steps import apply_core_policy

    return apply_core_policy(settings=rt.settings, factory=rt.sessions)


def install_workflows(rt: Runtime, *, sweep: bool = True) -> None:
    """Register the breakout workflows (their DBOS registration is their import), the sweep
    schedule (unless ``sweep`` is off: a caller that runs it itself, e.g. a test) and the
    watcher, and the core policy after routing changes; call before ``rt.launch()``."""
    from linkplane.attachments.watcher import Watcher
    from linkplane.attachments.workflows import provisioning, teardown
    from linkplane.attachments.workflows import sweep as sweeping
    from linkplane.isolation.steps import STEP

    del provisioning, teardown  # imported for their DBOS registrations
    rt.on_routing_changed(STEP, _core_policy)
    if sweep:
        rt.schedule(sweeping.SWEEP_SCHEDULE, sweeping.sweep,
                    rt.settings.breakout_sweep_interval_seconds)  # fmt: skip
    from linkplane.tenancy import workflows as tenancy_workflows

    rt.schedule(tenancy_workflows.HOUSEKEEPING_SCHEDULE, tenancy_workflows.housekeeping,
                3600, cron=tenancy_workflows.HOUSEKEEPING_CRON)  # fmt: skip
    if rt.settings.breakout_watch_interval_seconds > 0:
        rt.add_service(Watcher.for_runtime)
    if rt.settings.vpn_tunnel_watch_seconds > 0:
        from linkplane.attachments.tunnels import TunnelWatch

        rt.add_service(TunnelWatch.for_runtime)
