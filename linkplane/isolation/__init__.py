"""Isolation: the core packet policy applied, the verifier and audit/repair wired to the
database and the cloud, the periodic reconciler, and the network-namespace lab.

- :mod:`.state` -- loads the fleet, breakouts and regions (DB) and the live TGW/RAM state
  (cloud port) into plain values.
- :mod:`.drift` -- pure comparison of the cloud with what the breakout rows own: findings
  with stable codes, each with the fix repair would make.
- :mod:`.service` -- ``verify``, ``audit``, ``repair``, ``compute_policy``, ``apply_policy``,
  ``refresh_policy``: what the CLI, the workflows and the reconciler call.
- :mod:`.gateway` -- writing the ruleset atomically and loading it with ``nft -f``.
- :mod:`.policy_trigger` -- endpoint, SIM and profile commits re-apply the core policy.
- :mod:`.reconcile` -- the optional periodic reconciler of ``linkplane up``.
- :mod:`.lab` -- Linux network namespaces that forward real packets the way the cloud says.

See docs/isolation.md.
"""
