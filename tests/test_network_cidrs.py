"""Breakout CIDR validation: every refusal names the field and says what to fix."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkplane.errors import InvalidInput
from linkplane.network.cidrs import (
    CidrLimits,
    NamedRange,
    RangeIndex,
    breakout_ranges,
    reserved_ranges,
    validate_breakout_cidrs,
)
from linkplane.settings import Settings

RESERVED = reserved_ranges(device_cidrs=["100.64.0.0/10"], core_vpc_cidr="10.255.0.0/16")
LIMITS = CidrLimits(max_cidrs=3, min_prefix_length=16)


def validate(cidrs: list[str], **kw: object) -> list[IPv4Network]:
    args: dict[str, object] = {"existing": RESERVED, "limits": LIMITS, "routes_in_use": 0}
    args.update(kw)
    return validate_breakout_cidrs(cidrs, **args)  # type: ignore[arg-type]


def refused(cidrs: list[str], **kw: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        validate(cidrs, **kw)
    return info.value


def test_valid_request_returns_networks_in_order() -> None:
    assert validate(["10.1.0.0/16", "192.168.4.0/24"]) == [
        IPv4Network("10.1.0.0/16"),
        IPv4Network("192.168.4.0/24"),
    ]


@pytest.mark.parametrize(
    ("cidr", "words"),
    [
        ("banana", "not a valid CIDR"),
        ("10.1.0.0/33", "not a valid CIDR"),
        ("10.1.0.0", "no prefix length"),
        ("", "required"),
        ("fd00::/64", "only IPv4"),
        ("10.1.2.3/16", "use the network address 10.1.0.0/16"),
        ("8.8.8.0/24", "not a private"),
        ("172.32.0.0/16", "not a private"),
        ("100.80.0.0/16", "reserved for device addresses"),
        ("100.0.0.0/8", "overlaps 100.64.0.0/10"),
        ("10.0.0.0/8", "largest block is /16"),
    ],
)
def test_malformed_public_or_too_large_names_element(cidr: str, words: str) -> None:
    err = refused(["10.9.0.0/16", cidr])
    assert err.field == "vpc_cidr[1]"
    assert words in err.message


def test_count_limit() -> None:
    err = refused([f"10.{i}.0.0/16" for i in range(1, 5)])
    assert err.field == "vpc_cidr"
    assert "at most 3" in err.message


def test_empty_list_refused() -> None:
    assert refused([]).field == "vpc_cidr"


def test_overlap_within_request_names_both() -> None:
    err = refused(["10.1.0.0/16", "192.168.0.0/24", "10.1.128.0/17"])
    assert err.field == "vpc_cidr[2]"
    assert "10.1.0.0/16 (vpc_cidr[0])" in err.message


def test_duplicate_within_request() -> None:
    err = refused(["10.1.0.0/16", "10.1.0.0/16"])
    assert err.field == "vpc_cidr[1]"


def test_overlap_with_core_vpc_named() -> None:
    err = refused(["10.255.3.0/24"])
    assert err.field == "vpc_cidr[0]"
    assert "the core VPC 10.255.0.0/16" in err.message


def test_overlap_with_other_device_space_named() -> None:
    reserved = reserved_ranges(
        device_cidrs=["100.64.0.0/10", "10.200.0.0/16"], core_vpc_cidr="10.255.0.0/16"
    )
    err = refused(["10.200.0.0/24"], existing=reserved)
    assert "the device address space 10.200.0.0/16" in err.message


@pytest.mark.parametrize("cidr", ["10.2.0.0/16", "10.2.7.0/24", "10.2.0.0/16"])
def test_overlap_with_another_breakout_named(cidr: str) -> None:
    existing = [*RESERVED, *breakout_ranges("breakout 7 'Acme'", ["10.2.0.0/20"])]
    err = refused(["10.3.0.0/16", cidr], existing=existing)
    assert err.field == "vpc_cidr[1]"
    assert "10.2.0.0/20 of breakout 7 'Acme'" in err.message


def test_route_quota_headroom() -> None:
    validate(["10.1.0.0/16", "10.2.0.0/16"], routes_in_use=9_998)
    err = refused(["10.1.0.0/16", "10.2.0.0/16"], routes_in_use=9_999)
    assert err.field == "vpc_cidr"
    assert "only 1 of the 10000" in err.message


def test_custom_quota() -> None:
    assert refused(["10.1.0.0/16"], routes_in_use=5, route_quota=5).field == "vpc_cidr"


def test_limits_from_settings() -> None:
    s = Settings(max_cidrs_per_breakout=2, min_prefix_length=20)
    limits = CidrLimits.from_settings(s)
    assert limits == CidrLimits(max_cidrs=2, min_prefix_length=20)
    err = refused(["10.1.0.0/19"], limits=limits)
    assert "/20" in err.message


def test_range_index_finds_super_equal_and_subnets() -> None:
    index = RangeIndex(
        [
            NamedRange.of("a", "10.0.0.0/8"),
            NamedRange.of("b", "10.1.0.0/16"),
            NamedRange.of("c", "10.1.2.0/24"),
            NamedRange.of("d", "10.2.0.0/16"),
        ]
    )
    names = sorted(r.name for r in index.overlapping(IPv4Network("10.1.0.0/16")))
    assert names == ["a", "b", "c"]
    assert index.overlapping(IPv4Network("192.168.0.0/16")) == []


nets = st.builds(
    lambda a, plen: IPv4Network((a, plen), strict=False),
    st.integers(0x0A000000, 0x0A00FFFF),  # inside 10.0.0.0/16, many collisions
    st.integers(16, 30),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(nets, max_size=6), st.lists(nets, min_size=1, max_size=4))
def test_accepted_lists_never_overlap(
    existing: list[IPv4Network], request: list[IPv4Network]
) -> None:
    named = [NamedRange(f"e{i}", n) for i, n in enumerate(existing)]
    try:
        got = validate_breakout_cidrs(
            [str(n) for n in request],
            existing=named,
            limits=CidrLimits(max_cidrs=4, min_prefix_length=16),
            routes_in_use=0,
        )
    except InvalidInput:
        overlaps = any(a.overlaps(b) for a in request for b in existing) or any(
            request[i].overlaps(request[j])
            for i in range(len(request))
            for j in range(i + 1, len(request))
        )
        assert overlaps  # the only possible refusal for these inputs
        return
    for i, a in enumerate(got):
        assert not any(a.overlaps(e) for e in existing)
        assert not any(a.overlaps(b) for b in got[i + 1 :])


@settings(max_examples=200, deadline=None)
@given(st.lists(nets, max_size=8), nets)
def test_range_index_matches_brute_force(existing: list[IPv4Network], query: IPv4Network) -> None:
    named = [NamedRange(f"e{i}", n) for i, n in enumerate(existing)]
    fast = sorted(r.name for r in RangeIndex(named).overlapping(query))
    slow = sorted(r.name for r in named if r.network.overlaps(query))
    assert fast == slow
