"""The core policy: who may talk to whom, its nftables rendering, and the fast matcher."""

from __future__ import annotations

import shutil
import subprocess
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkplane.network.policy import Breakout, CorePolicy, Endpoint, disjoint, parse_ruleset

FLEET = [
    Endpoint(1, "100.64.0.1"),
    Endpoint(1, "100.64.0.2", enabled=False),
    Endpoint(1, "100.64.0.3", sim_activated=False),
    Endpoint(1, "100.64.0.4", cloud_connect=False),
    Endpoint(2, "100.64.1.1"),
]
BREAKOUTS = [
    Breakout(1, ("10.1.0.0/16", "192.168.1.0/24")),
    Breakout(2, ("10.2.0.0/16",)),
    Breakout(3, ("10.3.0.0/16",), active=False),
]


@pytest.fixture
def policy() -> CorePolicy:
    return CorePolicy.compute(FLEET, BREAKOUTS)


def test_own_org_allowed_both_directions(policy: CorePolicy) -> None:
    assert policy.allows("100.64.0.1", "10.1.200.7")
    assert policy.allows("192.168.1.9", "100.64.0.1")
    assert policy.allows("100.64.1.1", "10.2.0.1")


def test_traffic_outside_customer_space_is_not_judged(policy: CorePolicy) -> None:
    assert policy.allows("100.64.0.2", "8.8.8.8")  # even an ineligible device: not our table
    assert policy.allows("100.64.0.1", "100.64.1.1")


def test_customer_to_customer_through_core_is_refused(policy: CorePolicy) -> None:
    assert not policy.allows("10.1.0.1", "10.2.0.1")


def test_inactive_breakout_cidr_refused_for_everyone(policy: CorePolicy) -> None:
    assert not policy.allows("100.64.0.1", "10.3.0.1")
    assert not policy.allows("10.3.0.1", "100.64.1.1")


def test_other_org_refused_both_directions(policy: CorePolicy) -> None:
    assert not policy.allows("100.64.0.1", "10.2.0.1")
    assert not policy.allows("10.2.0.1", "100.64.0.1")
    assert not policy.allows("100.64.1.1", "10.1.0.1")


@pytest.mark.parametrize("ip", ["100.64.0.2", "100.64.0.3", "100.64.0.4"])
def test_disabled_unactivated_or_no_cloud_connect_refused(policy: CorePolicy, ip: str) -> None:
    assert not policy.allows(ip, "10.1.0.1")
    assert not policy.allows("10.1.0.1", ip)


def test_inactive_breakout_judged_but_not_allowed(policy: CorePolicy) -> None:
    assert any(IPv4Network("10.3.0.0/16").subnet_of(n) for n in policy.customer_space)
    assert 3 not in policy.org_cidrs


def test_disjoint_drops_duplicates_and_nested_keeps_adjacent() -> None:
    nets = [
        IPv4Network(n)
        for n in (
            "10.1.0.0/24",
            "10.0.0.0/16",
            "10.1.0.0/16",
            "10.0.5.0/24",
            "10.1.0.0/16",
            "10.2.0.0/16",
        )
    ]
    assert disjoint(nets) == [IPv4Network(n) for n in ("10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16")]


@pytest.mark.parametrize("other_enabled", [True, False])
def test_duplicate_device_address_across_orgs_left_out(other_enabled: bool) -> None:
    fleet = [Endpoint(1, "100.64.0.9"), Endpoint(2, "100.64.0.9", enabled=other_enabled)]
    p = CorePolicy.compute(fleet, [Breakout(1, ("10.1.0.0/16",))])
    assert not p.allows("100.64.0.9", "10.1.0.1")
    assert p.conflicts and "100.64.0.9" in p.conflicts[0]


def test_org_id_must_fit_a_mark() -> None:
    with pytest.raises(ValueError, match="packet mark"):
        CorePolicy.compute([Endpoint(0, "100.64.0.1")], [])


def test_render_is_deterministic_and_atomic(policy: CorePolicy) -> None:
    text = policy.render()
    shuffled = CorePolicy.compute(list(reversed(FLEET)), list(reversed(BREAKOUTS)))
    assert shuffled.render() == text
    head = text.splitlines()[2:5]
    assert head == [
        "table inet linkplane_core",
        "delete table inet linkplane_core",
        "table inet linkplane_core {",
    ]
    assert "100.64.0.1 : 0x00000001" in text
    assert "0x00000001 . 10.1.0.0/16" in text
    assert "100.64.0.2" not in text


def test_digest_changes_with_content(policy: CorePolicy) -> None:
    same = CorePolicy.compute(list(reversed(FLEET)), BREAKOUTS)
    other = CorePolicy.compute(FLEET[:1], BREAKOUTS)
    assert policy.digest() == same.digest() != other.digest()


def test_empty_policy_renders_without_elements() -> None:
    text = CorePolicy.compute([], []).render()
    assert "elements" not in text
    assert parse_ruleset(text).device_org == {}


# --- properties --------------------------------------------------------------------------

ips = st.integers(0x64400000, 0x6440000F).map(lambda i: str(IPv4Address(i)))
endpoints = st.builds(Endpoint, st.integers(1, 4), ips, st.booleans(), st.booleans())
cidrs = st.builds(
    lambda a, plen: str(IPv4Network((a, plen), strict=False)),
    st.integers(0x0A000000, 0x0A0000FF),
    st.integers(26, 32),
)
breakouts = st.builds(
    Breakout, st.integers(1, 4), st.lists(cidrs, min_size=1, max_size=3).map(tuple), st.booleans()
)


def brute_allows(fleet: list[Endpoint], bos: list[Breakout], src: int, dst: int) -> bool:
    """The policy read literally from the issue text, one packet at a time."""
    owners: dict[int, set[int]] = {}
    for e in fleet:
        owners.setdefault(int(IPv4Address(e.ip)), set()).add(e.org_id)

    def customer(addr: int) -> bool:
        return any(IPv4Address(addr) in IPv4Network(c) for b in bos for c in b.cidrs)

    def one_way(dev: int, other: int) -> bool:
        orgs = owners.get(dev, set())
        ok = [e for e in fleet if int(IPv4Address(e.ip)) == dev and e.eligible]
        if len(orgs) != 1 or not ok:
            return False  # unknown, ineligible or claimed by two organisations
        (org,) = orgs
        return any(
            b.org_id == org and b.active and IPv4Address(other) in IPv4Network(c)
            for b in bos
            for c in b.cidrs
        )

    if customer(dst):
        return one_way(src, dst)
    if customer(src):
        return one_way(dst, src)
    return True


@settings(max_examples=150, deadline=None)
@given(
    st.lists(endpoints, max_size=10),
    st.lists(breakouts, max_size=5),
    st.integers(0x64400000, 0x6440000F),
    st.integers(0x0A000000, 0x0A0001FF),  # half the time outside every breakout CIDR
    st.booleans(),
)
def test_fast_matcher_agrees_with_brute_force(
    fleet: list[Endpoint], bos: list[Breakout], dev: int, other: int, flip: bool
) -> None:
    src, dst = (other, dev) if flip else (dev, other)
    p = CorePolicy.compute(fleet, bos)
    assert p.allows(src, dst) == brute_allows(fleet, bos, src, dst)


@settings(max_examples=150, deadline=None)
@given(st.lists(endpoints, max_size=10), st.lists(breakouts, max_size=5))
def test_rendered_ruleset_parses_back_to_the_model(
    fleet: list[Endpoint], bos: list[Breakout]
) -> None:
    p = CorePolicy.compute(fleet, bos)
    back = parse_ruleset(p.render())
    assert back.device_org == p.device_org
    assert back.org_cidrs == p.org_cidrs
    assert back.customer_space == p.customer_space


# --- nft itself ----------------------------------------------------------------------------


def _nft_or_skip() -> str:
    nft = shutil.which("nft")
    if nft is None:
        pytest.skip("nft not installed (Debian package nftables)")
    probe = subprocess.run([nft, "-c", "-f", "/dev/null"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"nft cannot run here: {probe.stderr.decode().strip()}")
    return nft


def test_nft_accepts_rendered_ruleset(policy: CorePolicy, tmp_path: Path) -> None:
    nft = _nft_or_skip()
    path = tmp_path / "core.nft"
    path.write_text(policy.render())
    result = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()


def test_nft_loads_twice_in_netns_and_lists_same_content(
    policy: CorePolicy, tmp_path: Path
) -> None:
    """Real load in a throwaway network namespace: replace works, kernel holds the model."""
    nft = _nft_or_skip()
    unshare = shutil.which("unshare")
    path = tmp_path / "core.nft"
    path.write_text(policy.render())
    script = f"{nft} -f {path} && {nft} -f {path} && {nft} list table inet linkplane_core"
    if unshare is None:
        pytest.skip("unshare not installed")
    result = subprocess.run([unshare, "-n", "sh", "-c", script], capture_output=True, check=False)
    if result.returncode != 0 and b"Operation not permitted" in result.stderr:
        pytest.skip("no permission to create a network namespace")
    assert result.returncode == 0, result.stderr.decode()
    listed = parse_ruleset(result.stdout.decode())
    assert listed.device_org == policy.device_org
    assert listed.org_cidrs == policy.org_cidrs


# --- regions: each core region's device pool -------------------------------------------------

POOL_A, POOL_B = "100.64.0.0/12", "100.80.0.0/12"
REGION_FLEET = [
    Endpoint(1, "100.64.0.1"),  # org 1, devices break out in region A
    Endpoint(1, "100.80.0.1"),  # org 1, region B
    Endpoint(2, "100.80.1.1"),  # org 2, region B
    Endpoint(2, "100.64.1.1"),  # org 2, region A
]
REGION_BREAKOUTS = [
    Breakout(1, ("10.1.0.0/16",), pools=(POOL_A,)),  # attached in A, no route from B
    Breakout(1, ("10.5.0.0/16",), pools=(POOL_A, POOL_B)),  # attached in A, served to B too
    Breakout(2, ("10.2.0.0/16",), pools=(POOL_B,)),
]


@pytest.fixture
def regional() -> CorePolicy:
    return CorePolicy.compute(REGION_FLEET, REGION_BREAKOUTS)


def test_a_device_reaches_a_customer_in_another_region_only_through_a_declared_breakout(
    regional: CorePolicy,
) -> None:
    assert regional.allows("100.64.0.1", "10.1.0.9") and regional.allows("10.1.0.9", "100.64.0.1")
    # the same organisation's device in region B: the breakout serves region A only
    assert not regional.allows("100.80.0.1", "10.1.0.9")
    assert not regional.allows("10.1.0.9", "100.80.0.1")
    # a breakout that declares both regions serves both
    assert regional.allows("100.80.0.1", "10.5.0.9") and regional.allows("10.5.0.9", "100.80.0.1")
    assert regional.allows("100.64.0.1", "10.5.0.9")
    # org 2: its breakout serves region B; its device in A does not reach it
    assert regional.allows("100.80.1.1", "10.2.0.1")
    assert not regional.allows("100.64.1.1", "10.2.0.1")
    assert not regional.allows("10.2.0.1", "100.64.1.1")
    # the pools never open another organisation's CIDR
    assert not regional.allows("100.80.1.1", "10.5.0.9")
    assert not regional.allows("100.64.1.1", "10.1.0.9")


def test_regional_sets_render_and_read_back(regional: CorePolicy) -> None:
    text = regional.render()
    assert "100.64.0.0/12 . 10.1.0.0/16" in text and "100.80.0.0/12 . 10.2.0.0/16" in text
    back = parse_ruleset(text)
    assert back.regional_space == regional.regional_space
    assert back.pool_cidrs == regional.pool_cidrs
    pairs = [(d.ip, c) for d in REGION_FLEET for c in ("10.1.0.1", "10.2.0.1", "10.5.0.1")]
    assert [back.allows(d, c) for d, c in pairs] == [regional.allows(d, c) for d, c in pairs]


def test_without_pools_nothing_is_regional(policy: CorePolicy) -> None:
    assert policy.regional_space == [] and policy.pool_cidrs == {}
    assert "elements" not in policy.render().split("set regional_space")[1].split("}")[0]


def test_nft_accepts_rendered_regional_ruleset(regional: CorePolicy, tmp_path: Path) -> None:
    nft = _nft_or_skip()
    path = tmp_path / "core.nft"
    path.write_text(regional.render())
    result = subprocess.run([nft, "-c", "-f", str(path)], capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()

