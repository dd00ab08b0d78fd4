"""The audit's VPN leftovers over the embedded cloud: VPN connections on the TGW and customer
gateways tagged as this installation's whose breakout does not exist, is Deactivated or records
other ids are named (``unowned_vpn_connection``, ``unowned_customer_gateway``); ``repair``
deletes them (connection first, then gateway) and a second audit is clean. Untagged resources,
another installation's, and those of a breakout whose workflow runs are never touched. The
reads cost one DescribeVpnConnections and one DescribeCustomerGateways per region, however
many breakouts there are."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linkplane.attachments.models import BREAKOUT_TAG, Breakout, Status
from linkplane.db import transaction
from linkplane.installation.service import installation_id
from linkplane.installation.tags import TAG as INSTALLATION_TAG
from linkplane.isolation import service
from tests.test_isolation_support import REGION, CallCounter, World, counted_cloud, make_world

_ips = itertools.count(1)
VPN_CODES = {"unowned_vpn_connection", "unowned_customer_gateway"}


@dataclass(frozen=True)
class Pair:
    cgw: str
    vpn: str


def _installation(w: World) -> str:
    with w.ctx.sessionmaker() as session:
        return installation_id(session, w.settings)


def _pair(w: World, tags: dict[str, str]) -> Pair:
    """A customer gateway and a VPN connection on the world's TGW, made with plain boto3 (as a
    crashed cleanup or someone else leaves them)."""
    ec2 = w.ec2()
    spec = [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            for kind in ("customer-gateway", "vpn-connection")] if tags else None  # fmt: skip
    extra: dict[str, Any] = {"TagSpecifications": spec[:1]} if spec else {}
    n = next(_ips)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp=f"203.0.113.{n}", BgpAsn=65000,
                                      DeviceName=f"audit-{n}", **extra)  # fmt: skip
    cgw_id = cgw["CustomerGateway"]["CustomerGatewayId"]
    extra = {"TagSpecifications": spec[1:]} if spec else {}
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw_id,
                                    TransitGatewayId=w.region.tgw_id,
                                    Options={"StaticRoutesOnly": True}, **extra)  # fmt: skip
    return Pair(cgw_id, vpn["VpnConnection"]["VpnConnectionId"])


def _row(w: World, status: Status, *, vpn: str | None = None, cgw: str | None = None) -> int:
    with transaction(w.ctx.sessionmaker) as session:
        row = Breakout(org_id=w.orgs[0].id, name="v", region=REGION, aws_account_id="",
                       vpc_cidrs=json.dumps(["10.88.0.0/24"]), status_id=status,
                       description="", routes="[]", vpn_connection_id=vpn,
                       customer_gateway_id=cgw)  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def _record(w: World, breakout_id: int, *, vpn: str, cgw: str) -> None:
    with transaction(w.ctx.sessionmaker) as session:
        row = session.get_one(Breakout, breakout_id)
        row.vpn_connection_id, row.customer_gateway_id = vpn, cgw


def _tags(w: World, breakout_id: int | str, installation: str | None = None) -> dict[str, str]:
    return {BREAKOUT_TAG: str(breakout_id), INSTALLATION_TAG: installation or _installation(w)}


def _live(w: World) -> tuple[set[str], set[str]]:
    """Every live VPN connection and customer gateway of the world's provider account."""
    ec2 = w.ec2()
    vpns = {v["VpnConnectionId"] for v in ec2.describe_vpn_connections()["VpnConnections"]
            if v["State"] not in ("deleting", "deleted")}  # fmt: skip
    cgws = {g["CustomerGatewayId"] for g in ec2.describe_customer_gateways()["CustomerGateways"]
            if g["State"] not in ("deleting", "deleted")}  # fmt: skip
    return vpns, cgws


def _audit(w: World, cloud_for: Any = None) -> service.AuditResult:
    return service.audit(settings=w.settings, factory=w.ctx.sessionmaker,
                         cloud_for=cloud_for or w.cloud_for)  # fmt: skip


def _vpn_findings(result: service.AuditResult) -> dict[str, tuple[str, str]]:
    return {f.resource: (f.code, f.message) for f in result.findings if f.code in VPN_CODES}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def test_leftovers_are_named_repaired_in_order_and_others_never_touched(world: World) -> None:
    w = world
    gone = _row(w, Status.DEACTIVATED)
    active = _row(w, Status.ACTIVE, vpn="vpn-0recorded", cgw="cgw-0recorded")
    busy = _row(w, Status.PENDING_EGN_ACTIVATION)  # its workflow may not have recorded them yet
    stale = {
        "no breakout": _pair(w, _tags(w, 999_999)),
        "Deactivated": _pair(w, _tags(w, gone)),
        "another id": _pair(w, _tags(w, active)),
    }
    owner = _row(w, Status.ACTIVE)
    owned = _pair(w, _tags(w, owner))
    _record(w, owner, vpn=owned.vpn, cgw=owned.cgw)
    kept = {
        "in flight": _pair(w, _tags(w, busy)),
        "untagged": _pair(w, {}),
        "other installation": _pair(w, _tags(w, 999_999, installation="someone-else")),
        "no breakout tag": _pair(w, {INSTALLATION_TAG: _installation(w)}),
        "owned": owned,
    }

    found = _vpn_findings(_audit(w))
    want = {p.vpn: "unowned_vpn_connection" for p in stale.values()}
    want |= {p.cgw: "unowned_customer_gateway" for p in stale.values()}
    assert {r: code for r, (code, _) in found.items()} == want
    assert "does not exist" in found[stale["no breakout"].vpn][1]
    assert "is Deactivated" in found[stale["Deactivated"].cgw][1]
    assert "records another one (vpn-0recorded)" in found[stale["another id"].vpn][1]
    assert "records another one (cgw-0recorded)" in found[stale["another id"].cgw][1]
    vpns, cgws = _live(w)
    assert {p.vpn for p in stale.values()} <= vpns  # audit alone changes nothing

    fixed = service.repair(factory=w.ctx.sessionmaker, cloud_for=w.cloud_for,
                           findings=_audit(w).findings)  # fmt: skip
    assert fixed.failed == []
    ops = [r.split()[0] for r in fixed.repaired if r.startswith("delete_")]
    assert ops == ["delete_vpn_connection"] * 3 + ["delete_customer_gateway"] * 3
    vpns, cgws = _live(w)
    assert not {p.vpn for p in stale.values()} & vpns
    assert not {p.cgw for p in stale.values()} & cgws
    assert {p.vpn for p in kept.values()} <= vpns and {p.cgw for p in kept.values()} <= cgws

    assert _vpn_findings(_audit(w)) == {}  # a second audit is clean
    again = service.repair(factory=w.ctx.sessionmaker, cloud_for=w.cloud_for,
                           findings=_audit(w).findings)  # fmt: skip
    assert not [r for r in again.repaired if "vpn_connection" in r or "customer_gateway" in r]


def test_a_gateway_is_kept_while_a_connection_that_stays_uses_it(world: World) -> None:
    """A stale gateway still used by a breakout's recorded connection is not proposed: AWS
    would refuse it, and the connection is not linkplane's to cut."""
    w = world
    bid = _row(w, Status.ACTIVE)
    pair = _pair(w, _tags(w, bid))
    _record(w, bid, vpn=pair.vpn, cgw="cgw-0elsewhere")
    assert _vpn_findings(_audit(w)) == {}


def test_reads_are_one_per_region_not_per_breakout(world: World) -> None:
    w = world
    counter = CallCounter()
    cloud = counted_cloud(w.settings, REGION, counter)

    def calls() -> tuple[int, int]:
        counter.reset()
        _audit(w, lambda r: cloud)
        seen = counter.calls
        return seen.get("DescribeVpnConnections", 0), seen.get("DescribeCustomerGateways", 0)

    assert calls() == (1, 1)
    for _ in range(3):
        bid = _row(w, Status.DEACTIVATED)
        _pair(w, _tags(w, bid))
        _row(w, Status.ACTIVE)
    assert calls() == (1, 1)
    assert len(_vpn_findings(_audit(w))) == 6


def test_a_breakout_created_while_the_audit_reads_the_cloud_is_not_judged_stale(
    world: World,
) -> None:
    """The breakouts are read after the cloud: a VPN breakout whose row and customer gateway
    appear between the audit's start and its cloud reads is in flight, not a leftover."""
    w = world
    made: list[Pair] = []

    class Racing:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def list_vpn_connections(self, **kwargs: Any) -> Any:
            if not made:  # a request and its workflow's first steps, right now
                made.append(_pair(w, _tags(w, _row(w, Status.PENDING_EGN_ACTIVATION))))
            return self.inner.list_vpn_connections(**kwargs)

    result = _audit(w, lambda r: Racing(w.cloud_for(r)))
    assert made and _vpn_findings(result) == {}
    vpns, cgws = _live(w)
    assert made[0].vpn in vpns and made[0].cgw in cgws
