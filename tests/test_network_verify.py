"""The isolation verifier: a clean topology passes; each deliberate mistake is found and named."""

from __future__ import annotations

import json
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkplane.cloud.port import RouteTableAssociation, TgwAttachment, TgwRoute, TgwRouteTable
from linkplane.network import verify as verify_module
from linkplane.network.policy import Breakout, CorePolicy, DeviceMap, Endpoint, parse_ruleset
from linkplane.network.routing import Attachment, Route, RouteState, RouteType, Topology
from linkplane.network.verify import Finding, Intent, Report, verify

CORE, CUST = "rt-core", "rt-cust"
ATTS = [Attachment("att-core"), Attachment("att-a", org_id=1), Attachment("att-b", org_id=2)]
BREAKOUTS = [
    Breakout(1, ("10.1.0.0/16", "192.168.1.0/24"), id=11, attachment_id="att-a"),
    Breakout(2, ("10.2.0.0/16",), id=22, attachment_id="att-b"),
]
FLEET = [Endpoint(1, "100.64.0.1"), Endpoint(2, "100.64.1.1"), Endpoint(2, "100.64.1.2", False)]


def route(table: str, cidr: str, att: str | None, *, prop: bool = False) -> Route:
    return Route(
        table,
        IPv4Network(cidr),
        RouteType.PROPAGATED if prop else RouteType.STATIC,
        RouteState.ACTIVE if att else RouteState.BLACKHOLE,
        (att,) if att else (),
    )


CLEAN_ROUTES = [
    route(CORE, "10.1.0.0/16", "att-a"),
    route(CORE, "192.168.1.0/24", "att-a"),
    route(CORE, "10.2.0.0/16", "att-b"),
    route(CUST, "100.64.0.0/10", "att-core"),
]
CLEAN_ASSOC = {"att-core": CORE, "att-a": CUST, "att-b": CUST}


def topology(
    routes: list[Route] = CLEAN_ROUTES,
    assoc: dict[str, str] = CLEAN_ASSOC,
    propagations: tuple[tuple[str, str], ...] = (),
) -> Topology:
    return Topology.build(
        routes=routes,
        attachments=ATTS,
        associations=assoc,
        table_ids=[CORE, CUST],
        propagations=propagations,
    )


def intent(**kw: object) -> Intent:
    base = Intent("att-core", CORE, CUST, BREAKOUTS, fleet=FLEET)
    return replace(base, **kw)  # type: ignore[arg-type]


def only(report: Report, code: str) -> Finding:
    hits = [f for f in report.findings if f.code == code]
    assert hits, report.to_text()
    return hits[0]


def test_clean_topology_has_no_findings() -> None:
    report = verify(topology(), intent())
    assert report.ok, report.to_text()
    assert "OK" in report.to_text()
    data = json.loads(report.to_json())
    assert data["ok"] is True
    assert data["counts"]["active_breakouts"] == 2
    assert data["counts"]["cidrs"] == 3
    assert data["counts"]["intended_pairs"] == 3  # each org's range is the whole device space


def test_pair_counts_with_per_org_device_ranges() -> None:
    ranges = {1: [IPv4Network("100.64.0.0/24")], 2: [IPv4Network("100.64.1.0/24")]}
    report = verify(topology(), intent(device_ranges=ranges))
    assert report.ok, report.to_text()
    assert report.counts["intended_pairs"] == 3  # org 1: 1 range x 2 CIDRs, org 2: 1 x 1
    assert report.counts["cross_org_pairs"] == 3  # org 2's range x org 1's 2, and back


def test_missing_return_route_for_one_org_range_is_found() -> None:
    ranges = {1: [IPv4Network("100.64.0.0/24")], 2: [IPv4Network("10.200.0.0/24")]}
    f = only(verify(topology(), intent(device_ranges=ranges)), "missing_route")
    assert f.table_id == CUST and f.cidr == "10.200.0.0/24" and f.orgs == (2,)


def test_overlapping_route_is_found_and_named() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CORE, "10.1.5.0/24", "att-b")]), intent())
    f = only(report, "overlapping_route")
    assert f.cidr == "10.1.5.0/24" and f.orgs == (1, 2)
    assert "org 1's 10.1.0.0/16" in f.message and "att-b" in f.message
    assert len(report.findings) == 1


def test_covering_route_to_other_org_is_cross_org_and_overlapping() -> None:
    routes = [r for r in CLEAN_ROUTES if str(r.network) != "10.1.0.0/16"]
    report = verify(topology([*routes, route(CORE, "10.0.0.0/8", "att-b")]), intent())
    f = only(report, "cross_org_route")
    assert f.cidr == "10.1.0.0/16" and f.orgs == (1, 2)
    assert only(report, "overlapping_route").cidr == "10.0.0.0/8"


def test_wrong_association_is_found_and_named() -> None:
    report = verify(topology(assoc={**CLEAN_ASSOC, "att-a": CORE}), intent())
    f = only(report, "wrong_association")
    assert f.attachment_id == "att-a" and f.layer == "association"
    assert "associated with rt-core, expected the customers table rt-cust" in f.message
    assert "every customer's CIDRs" in f.message


def test_foreign_attachment_in_core_table_is_wrong_association() -> None:
    topo = topology(assoc={**CLEAN_ASSOC, "att-x": CORE})
    f = only(verify(topo, intent()), "wrong_association")
    assert f.attachment_id == "att-x" and "every customer" in f.message


def test_unassociated_attachment_is_found() -> None:
    assoc = {k: v for k, v in CLEAN_ASSOC.items() if k != "att-b"}
    f = only(verify(topology(assoc=assoc), intent()), "wrong_association")
    assert "not associated" in f.message and f.orgs == (2,)


def test_core_attachment_in_wrong_table_is_found() -> None:
    f = only(
        verify(topology(assoc={**CLEAN_ASSOC, "att-core": CUST}), intent()), "wrong_association"
    )
    assert f.attachment_id == "att-core" and "expected the core table rt-core" in f.message


def test_propagated_route_leaking_customer_cidr_is_found() -> None:
    leak = route(CUST, "10.2.0.0/16", "att-b", prop=True)
    report = verify(topology([*CLEAN_ROUTES, leak]), intent())
    f = only(report, "leaked_propagation")
    assert f.table_id == CUST and f.cidr == "10.2.0.0/16" and f.orgs == (2,)
    assert len(report.findings) == 1


def test_enabled_propagation_without_route_yet_is_found() -> None:
    report = verify(topology(propagations=((CUST, "att-a"),)), intent())
    assert only(report, "leaked_propagation").attachment_id == "att-a"


def test_blackhole_on_intended_cidr_is_found() -> None:
    routes = [r for r in CLEAN_ROUTES if str(r.network) != "10.2.0.0/16"]
    report = verify(topology([*routes, route(CORE, "10.2.0.0/16", None)]), intent())
    f = only(report, "blackhole")
    assert f.cidr == "10.2.0.0/16" and f.orgs == (2,) and "breakout 22" in f.message


def test_blackhole_inside_intended_cidr_is_found() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CORE, "10.2.3.0/24", None)]), intent())
    assert only(report, "blackhole").cidr == "10.2.3.0/24"


def test_blackhole_on_device_space_in_customers_table_is_found() -> None:
    routes = [r for r in CLEAN_ROUTES if r.table_id == CORE]
    report = verify(topology([*routes, route(CUST, "100.64.0.0/10", None)]), intent())
    assert only(report, "blackhole").table_id == CUST


def test_missing_route_is_found() -> None:
    routes = [r for r in CLEAN_ROUTES if str(r.network) != "192.168.1.0/24"]
    f = only(verify(topology(routes), intent()), "missing_route")
    assert f.cidr == "192.168.1.0/24" and f.attachment_id == "att-a" and f.table_id == CORE


def test_missing_return_route_is_found() -> None:
    routes = [r for r in CLEAN_ROUTES if r.table_id == CORE]
    f = only(verify(topology(routes), intent()), "missing_route")
    assert f.table_id == CUST and f.orgs == (1, 2)


def test_cross_org_static_route_in_core_table_is_found() -> None:
    routes = [r for r in CLEAN_ROUTES if str(r.network) != "10.2.0.0/16"]
    report = verify(topology([*routes, route(CORE, "10.2.0.0/16", "att-a")]), intent())
    f = only(report, "cross_org_route")
    assert f.cidr == "10.2.0.0/16" and f.orgs == (1, 2)
    assert "org 1" in f.message


def test_cross_org_static_route_in_customers_table_is_found() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CUST, "10.1.0.0/16", "att-a")]), intent())
    f = only(report, "cross_org_route")
    assert f.table_id == CUST and f.orgs == (1,)


def test_route_to_core_beyond_device_space_is_unexpected() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CUST, "10.255.0.0/16", "att-core")]), intent())
    assert only(report, "unexpected_route").cidr == "10.255.0.0/16"


def test_stale_route_is_found() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CORE, "10.9.0.0/16", "att-a")]), intent())
    assert only(report, "stale_route").cidr == "10.9.0.0/16"


def test_inactive_breakout_route_is_stale() -> None:
    bos = [BREAKOUTS[0], replace(BREAKOUTS[1], active=False)]
    report = verify(topology(), intent(breakouts=bos))
    assert only(report, "stale_route").cidr == "10.2.0.0/16"


def test_missing_attachment_is_found() -> None:
    bos = [BREAKOUTS[0], replace(BREAKOUTS[1], attachment_id="att-gone")]
    assert only(verify(topology(), intent(breakouts=bos)), "missing_attachment").orgs == (2,)


# --- policy layer -------------------------------------------------------------------------


def live_policy(edit: tuple[str, str]) -> CorePolicy:
    text = CorePolicy.compute(FLEET, BREAKOUTS).render()
    old, new = edit
    assert old in text
    return parse_ruleset(text.replace(old, new))


def test_policy_giving_device_other_orgs_mark_is_cross_org() -> None:
    policy = live_policy(("100.64.1.1 : 0x00000002", "100.64.1.1 : 0x00000001"))
    f = only(verify(topology(), intent(), policy=policy), "policy_allows_cross_org")
    assert f.layer == "policy" and f.orgs == (1, 2) and "100.64.1.1" in f.message


def test_policy_listing_other_orgs_cidr_is_cross_org() -> None:
    policy = live_policy(("0x00000002 . 10.2.0.0/16", "0x00000001 . 10.2.0.0/16"))
    report = verify(topology(), intent(), policy=policy)
    f = only(report, "policy_allows_cross_org")
    assert f.cidr == "10.2.0.0/16" and f.orgs == (1, 2)
    assert only(report, "missing_policy").orgs == (2,)


def test_policy_not_filtering_a_customer_cidr_is_cross_org() -> None:
    policy = live_policy(("            10.2.0.0/16,\n", ""))
    f = only(verify(topology(), intent(), policy=policy), "policy_allows_cross_org")
    assert f.cidr == "10.2.0.0/16" and "every organisation" in f.message


def test_policy_allowing_ineligible_device_is_found() -> None:
    policy = live_policy(("100.64.1.1 : 0x00000002", "100.64.1.2 : 0x00000002"))
    report = verify(topology(), intent(), policy=policy)
    assert only(report, "policy_allows_ineligible").cidr == "100.64.1.2/32"
    assert only(report, "missing_policy").cidr == "100.64.1.1/32"


def test_a_shared_device_map_is_judged_once_per_gateway_map_and_never_reused_for_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Several regions' verifiers share one DeviceMap (computed once per run): the same
    gateway device map, shared by ``without``, is walked once; a different map (a tampered
    gateway) is judged afresh, never given the first map's clean result."""
    walks: list[int] = []
    judge = verify_module._judge_devices
    monkeypatch.setattr(verify_module, "_judge_devices",
                        lambda m, d: walks.append(len(m)) or judge(m, d))  # fmt: skip
    devices = DeviceMap.of(FLEET)
    applied = live_policy(("0x00000002 . 10.2.0.0/16", "0x00000002 . 10.2.0.0/16"))
    for region_view in (applied, applied.without([IPv4Network("10.2.0.0/16")])):
        assert not [f for f in verify(topology(), intent(devices=devices), policy=region_view)
                    .findings if f.cidr and f.cidr.endswith("/32")]  # fmt: skip
    assert walks == [2]
    tampered = live_policy(("100.64.1.1 : 0x00000002", "100.64.1.1 : 0x00000001"))
    report = verify(topology(), intent(devices=devices), policy=tampered)
    assert only(report, "policy_allows_cross_org").orgs == (1, 2)
    assert walks == [2, 2]


def test_policy_with_stale_cidr_is_found() -> None:
    policy = live_policy(("0x00000002 . 10.2.0.0/16", "0x00000002 . 10.9.0.0/16"))
    assert only(verify(topology(), intent(), policy=policy), "policy_stale_cidr").orgs == (2,)


def test_text_and_json_reports_name_the_violation() -> None:
    report = verify(topology([*CLEAN_ROUTES, route(CORE, "10.1.5.0/24", "att-b")]), intent())
    assert not report.ok
    text = report.to_text()
    assert "FAILED: 1 violation" in text and "overlapping_route" in text and "rt-core" in text
    data = json.loads(report.to_json())
    assert data["violations_by_code"] == {"overlapping_route": 1}
    assert data["findings"][0]["attachment_id"] == "att-b"


def test_text_report_caps_each_code() -> None:
    stale = [route(CORE, f"10.9.{i}.0/24", "att-a") for i in range(30)]
    text = verify(topology([*CLEAN_ROUTES, *stale]), intent()).to_text(per_code=5)
    assert "... and 25 more stale_route" in text


def test_verify_from_cloud_port_reads() -> None:
    topo = Topology.from_reads(
        route_tables=[
            TgwRouteTable(CORE, "tgw", "available"),
            TgwRouteTable(CUST, "tgw", "available"),
        ],
        routes_by_table={
            CORE: [
                TgwRoute(CORE, str(r.network), "static", "active", r.attachment_ids)
                for r in CLEAN_ROUTES
                if r.table_id == CORE
            ],
            CUST: [TgwRoute(CUST, "100.64.0.0/10", "static", "active", ("att-core",))],
        },
        attachments=[
            TgwAttachment(a, "tgw", "vpc", f"vpc-{a}", "111111111111", "available")
            for a in ("att-core", "att-a", "att-b")
        ],
        associations=[
            RouteTableAssociation(t, a, "vpc", "associated") for a, t in CLEAN_ASSOC.items()
        ],
        org_of_attachment={"att-a": 1, "att-b": 2},
    )
    assert verify(topo, intent()).ok


# --- property: no misrouted address inside a customer CIDR goes unreported -----------------

SMALL = [IPv4Network("10.0.0.0/28"), IPv4Network("10.0.0.16/28"), IPv4Network("10.0.0.32/29")]
rand_routes = st.lists(
    st.builds(
        lambda a, plen, target: route(CORE, str(IPv4Network((a, plen), strict=False)), target),
        st.integers(0x0A000000, 0x0A00003F),
        st.integers(25, 32),
        st.sampled_from(["att-a", "att-b", None]),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(rand_routes, st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_misrouted_address_is_reported(extra: list[Route], exact: list[bool]) -> None:
    owners = ["att-a", "att-b", "att-a"]
    bos = [
        Breakout(1 if att == "att-a" else 2, (str(net),), id=i, attachment_id=att)
        for i, (net, att) in enumerate(zip(SMALL, owners, strict=True))
    ]
    base = [
        route(CORE, str(n), att) for n, att, keep in zip(SMALL, owners, exact, strict=True) if keep
    ]
    topo = topology([*base, *extra, route(CUST, "100.64.0.0/10", "att-core")])
    report = verify(topo, intent(breakouts=bos, fleet=[]))
    table = topo.tables[CORE]
    for net, att in zip(SMALL, owners, strict=True):
        wrong = [
            a
            for a in range(int(net.network_address), int(net.broadcast_address) + 1)
            if (hit := table.lookup(IPv4Address(a))) is None or hit.attachment_ids != (att,)
        ]
        if wrong:
            flagged = [
                f
                for f in report.findings
                if f.cidr and IPv4Network(f.cidr).overlaps(net) and f.layer == "routing"
            ]
            assert flagged, (net, report.to_text())


# --- regions: the policy restricts a breakout to the pools it serves ---------------------------

REGIONAL = [replace(b, pools=("100.64.0.0/12",)) for b in BREAKOUTS]


def test_policy_without_the_regional_restriction_is_found() -> None:
    """Routing serves breakout 11 to region A's pool only; a policy in force that lets every
    device of the organisation reach it (the one-region policy) is a finding."""
    unrestricted = CorePolicy.compute(FLEET, BREAKOUTS)
    report = verify(topology(), intent(breakouts=REGIONAL), policy=unrestricted)
    hits = [f for f in report.findings if f.code == "policy_allows_other_region"]
    assert {f.cidr for f in hits} == {"10.1.0.0/16", "192.168.1.0/24", "10.2.0.0/16"}
    assert "missing_policy" in report.by_code()
    clean = verify(topology(), intent(breakouts=REGIONAL),
                   policy=CorePolicy.compute(FLEET, REGIONAL))  # fmt: skip
    assert clean.ok, clean.to_text()


def test_policy_serving_a_breakout_to_another_pool_is_found() -> None:
    text = CorePolicy.compute(FLEET, REGIONAL).render()
    old = "100.64.0.0/12 . 10.2.0.0/16"
    assert old in text
    policy = parse_ruleset(text.replace(old, f"{old},\n            100.80.0.0/12 . 10.2.0.0/16"))
    f = only(verify(topology(), intent(breakouts=REGIONAL), policy=policy),
             "policy_allows_other_region")  # fmt: skip
    assert f.cidr == "10.2.0.0/16" and "100.80.0.0/12" in f.message
