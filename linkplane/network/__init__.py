"""Pure network logic: no I/O, no boto3, FastAPI or SQLAlchemy; plain values in, findings out.

- :mod:`.cidrs` -- breakout CIDR validation (``validate_breakout_cidrs``) and range indexes.
- :mod:`.routing` -- TGW route tables and AWS route evaluation (``Topology.from_reads``).
- :mod:`.policy` -- the core packet policy and its nftables ruleset (``CorePolicy``).
- :mod:`.verify` -- the isolation verifier (``verify(topology, intent, policy=...)``).
- :mod:`.pools` -- per-region device address pools (``check_pools``).
- :mod:`.crossregion` -- paths across a region peering, hop by hop (``check_hops``).
"""
