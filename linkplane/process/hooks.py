"""What features plug into each other and into the durable runtime, registered by the roots.

Two kinds of hook, each registered in exactly one function here and called by the roots
(never as a side effect of launching something else):

- :func:`register_reserved_cidrs`: addressing refuses IP address spaces overlapping the CIDRs
  of live breakouts (``linkplane.addressing`` never imports the breakouts). Every process
  kind that changes address spaces needs it: ``serve``, ``up``, the CLI.
- :func:`install_workflows`: what a process that runs workflows adds to its runtime: the
  breakout workflows (sweep, watcher) and, after a breakout's routes changed, the core policy
  step of isolation. Every such process registers the same hooks, so a workflow replays the
  same steps wherever it is taken over.
"""

from __future__ import annotations

from linkplane.durable.runtime import Runtime


def register_reserved_cidrs() -> None:
    from linkplane.addressing.service import register_reserved_cidr_source
    from linkplane.attachments.service import reserved_cidr_source

    register_reserved_cidr_source(reserved_cidr_source)


def _core_policy(rt: Runtime) -> str:
    from linkplane.isolation.steps import apply_core_policy

    return apply_core_policy(settings=rt.settings, factory=rt.sessions)


def install_workflows(rt: Runtime, *, sweep: bool = True) -> None:
    from linkplane.attachments import workflows
    from linkplane.isolation.steps import STEP

    rt.on_routing_changed(STEP, _core_policy)
    workflows.install(rt, sweep=sweep)
