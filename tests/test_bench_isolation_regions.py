"""The three-region case of bench/bench_isolation.py verifies clean at a small scale, and
fails on a broken peering hop (so its timings measure a real, passing verify)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_isolation.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_isolation", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_isolation", module)
    spec.loader.exec_module(module)
    return module


def test_three_regions_verify_clean_and_a_missing_hop_is_found(bench: ModuleType) -> None:
    fleet = bench.make_regional_fleet(0.03)  # 30 orgs, 150 breakouts, 30 across a peering
    ruleset = bench.generate_regional_policy(fleet)
    assert "pool_cidrs" in ruleset and "100.80.0.0/12 . 10." in ruleset
    routes = bench.run_regional_verify(fleet, ruleset)
    assert routes > sum(len(b.cidrs) for b in fleet.breakouts)  # the peering routes too
    # the attachment region's peering table loses one served CIDR: devices elsewhere lose it
    peer_table = bench._ids(1)[2]
    table = fleet.reads[1]["routes_by_table"][peer_table]
    table.pop(next(i for i, r in enumerate(table) if r.cidr.startswith("10.")))
    with pytest.raises(SystemExit, match="second hop from the peering"):
        bench.run_regional_verify(fleet, ruleset)
