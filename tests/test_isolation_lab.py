"""Real packets: the lab's namespaces forward as the embedded cloud's TGW says and the core
gateway enforces the generated policy. Each organisation's devices reach their own VPC host
(ICMP echo and TCP, both directions) and nothing else, before and after a breakout is deleted
and a SIM suspended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.isolation import lab, service
from linkplane.sims.models import SimStatus
from tests.test_isolation_support import World, make_world

pytestmark = pytest.mark.netns

_why = lab.available()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    if _why:
        pytest.skip(f"lab not available: {_why}")
    w = make_world(tmp_path)
    yield w
    lab.down(settings=w.settings)


def _reach(probes: list[lab.Probe]) -> set[tuple[str, str, str]]:
    """(kind, src ns, dst ns-kind) triples that got through, with hosts named by role."""
    return {(p.kind, p.src, p.dst) for p in probes if p.ok}


def _expected(pairs: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    return {(k, s, d) for a, b in pairs for s, d in ((a, b), (b, a)) for k in ("ping", "tcp")}


def _up(w: World) -> lab.LabState:
    summary = lab.up(settings=w.settings, factory=w.ctx.sessionmaker, cloud_for=w.cloud_for)
    return summary.state


def test_each_org_reaches_only_its_own_vpc(world: World) -> None:
    a, b = world.orgs
    ba = world.provision(a, ["10.51.0.0/24"])
    world.provision(b, ["10.52.0.0/24"])
    state = _up(world)
    dev_a, dev_b = a.ips[0], b.ips[0]
    vpc_a, vpc_b = lab.vpc_address("10.51.0.0/24"), lab.vpc_address("10.52.0.0/24")
    assert _reach(lab.matrix(state)) == _expected([(dev_a, vpc_a), (dev_b, vpc_b)])

    # Breakout of org A deleted: routes gone in the cloud, lab re-synced, policy regenerated.
    world.deprovision(ba)
    state = _up(world)
    assert _reach(lab.matrix(state)) == _expected([(dev_b, vpc_b)])

    # The SIM of org B's first device suspended: the regenerated policy drops it.
    world.set_sim(b, 0, SimStatus.SUSPENDED)
    result = service.apply_policy(settings=world.settings, factory=world.ctx.sessionmaker)
    assert result.changed and result.loaded_into == state.core_netns
    assert _reach(lab.matrix(state)) == set()
    # ... while its second, still activated device keeps its path.
    assert lab.probe(f"{state.prefix}-org{b.id}", "tcp", b.ips[1], vpc_b)


def test_down_removes_every_namespace(world: World) -> None:
    world.provision(world.orgs[0], ["10.53.0.0/24"])
    state = _up(world)
    removed = lab.down(settings=world.settings)
    assert sorted(removed) == sorted(state.namespaces)
    assert not any(ns.startswith(state.prefix) for ns in lab.run("ip", "netns", "list").split())
