"""Audit and repair against the embedded cloud: drift made by hand with plain boto3 is named
by code, ``repair`` fixes it idempotently and records events, and ``audit`` alone changes
nothing (inventory snapshot before == after)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from linkplane.events.models import Event
from linkplane.isolation import service
from linkplane.localcloud.inventory import snapshot
from tests.test_isolation_support import REGION, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path)
    w.provision(w.orgs[0], ["10.41.0.0/24"])
    w.provision(w.orgs[1], ["10.42.0.0/24", "10.43.0.0/24"])
    return w


def _audit(w: World) -> service.AuditResult:
    return service.audit(settings=w.settings, factory=w.ctx.sessionmaker, cloud_for=w.cloud_for)


def _codes(result: service.AuditResult) -> set[tuple[str, str]]:
    return {(f.code, f.resource) for f in result.findings}


def test_clean_breakouts_audit_and_verify_ok(world: World) -> None:
    assert _audit(world).findings == []
    result = service.verify_isolation(
        settings=world.settings, factory=world.ctx.sessionmaker, cloud_for=world.cloud_for
    )
    assert result.ok, result.reports[REGION].to_text()
    assert result.reports[REGION].counts["active_breakouts"] == 2


def _make_drift(w: World) -> dict[str, str]:
    """Drift made by hand, as an operator in the console would: returns what was touched."""
    ec2, ram, r = w.ec2(), w.ram(), w.region
    with w.ctx.sessionmaker() as session:
        from linkplane.attachments.models import Breakout

        rows = {b.org_id: b for b in session.scalars(select(Breakout))}
    a, b = rows[w.orgs[0].id], rows[w.orgs[1].id]
    ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=r.core_table_id,
                                     DestinationCidrBlock="10.41.0.0/24")  # fmt: skip
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=r.core_table_id,
                                     DestinationCidrBlock="10.99.0.0/24",
                                     TransitGatewayAttachmentId=b.attachment_id)  # fmt: skip
    stray = ram.create_resource_share(
        name="stray",
        resourceArns=[r.tgw_arn],
        principals=["999999999999"],
        allowExternalPrincipals=True,
    )
    ram.associate_resource_share(resourceShareArn=b.share_arn, principals=["888888888888"])
    ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=r.customers_table_id, TransitGatewayAttachmentId=a.attachment_id
    )
    ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=r.core_table_id, TransitGatewayAttachmentId=a.attachment_id
    )
    ec2.enable_transit_gateway_route_table_propagation(
        TransitGatewayRouteTableId=r.customers_table_id, TransitGatewayAttachmentId=b.attachment_id
    )
    return {"a": str(a.attachment_id), "b": str(b.attachment_id), "b_share": str(b.share_arn),
            "stray": stray["resourceShare"]["resourceShareArn"]}  # fmt: skip


def test_audit_names_each_drift_and_changes_nothing(world: World) -> None:
    touched = _make_drift(world)
    r = world.region
    accounts = [world.settings.provider_account_id]
    before = snapshot(world.endpoint_url, accounts, [REGION])
    found = _codes(_audit(world))
    after = snapshot(world.endpoint_url, accounts, [REGION])
    assert before == after  # no --repair: nothing changed
    assert found == {
        ("missing_route", f"{r.core_table_id}#10.41.0.0/24"),
        ("unowned_route", f"{r.core_table_id}#10.99.0.0/24"),
        ("unowned_share", touched["stray"]),
        ("unowned_principal", f"{touched['b_share']}#888888888888"),
        ("changed_association", f"{r.core_table_id}#{touched['a']}"),
        ("unowned_propagation", f"{r.customers_table_id}#{touched['b']}"),
    }
    # The verifier sees the isolation side of the same drift.
    report = service.verify_isolation(
        settings=world.settings, factory=world.ctx.sessionmaker, cloud_for=world.cloud_for
    ).reports[REGION]
    assert {"wrong_association", "missing_route", "leaked_propagation", "stale_route"} <= set(
        report.by_code()
    )


def test_repair_fixes_everything_idempotently_with_events(world: World) -> None:
    _make_drift(world)
    findings = _audit(world).findings
    done = service.repair(factory=world.ctx.sessionmaker, cloud_for=world.cloud_for,
                          findings=findings)  # fmt: skip
    assert done.failed == []
    assert len(done.repaired) >= len(findings)
    assert _audit(world).findings == []
    again = service.repair(factory=world.ctx.sessionmaker, cloud_for=world.cloud_for,
                           findings=_audit(world).findings)  # fmt: skip
    assert again.repaired == [] and again.failed == []
    verified = service.verify_isolation(
        settings=world.settings, factory=world.ctx.sessionmaker, cloud_for=world.cloud_for
    )
    assert verified.ok, verified.reports[REGION].to_text()
    with world.ctx.sessionmaker() as session:
        events = session.scalars(select(Event).where(Event.source == "network")).all()
    assert len(events) == len(done.repaired)
    assert {e.description.split(":")[0] for e in events} >= {
        "Repaired missing_route",
        "Repaired unowned_share",
        "Repaired unowned_propagation",
    }


def test_reconcile_pass_applies_policy_and_repairs(world: World) -> None:
    from linkplane.isolation.reconcile import Reconciler, reconcile_once
    from linkplane.sims.models import SimStatus

    kwargs = {"settings": world.settings, "factory": world.ctx.sessionmaker,
              "cloud_for": world.cloud_for}  # fmt: skip
    first = reconcile_once(**kwargs)  # type: ignore[arg-type]
    assert first.policy_changed and first.findings == 0
    world.ec2().delete_transit_gateway_route(
        TransitGatewayRouteTableId=world.region.core_table_id, DestinationCidrBlock="10.41.0.0/24")
    world.set_sim(world.orgs[0], 0, SimStatus.SUSPENDED)
    second = reconcile_once(**kwargs)  # type: ignore[arg-type]
    assert (second.policy_changed, second.findings, second.repaired) == (True, 1, 1)
    assert reconcile_once(**kwargs) == type(second)(False, 0, 0, 0)  # type: ignore[arg-type]

    thread = Reconciler(interval=0.05, **kwargs)  # type: ignore[arg-type]
    thread.start()
    import time

    deadline = time.monotonic() + 20
    while thread.passes == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    thread.stop()
    assert thread.passes >= 1


# --- installations sharing a provider account -------------------------------------------------
def _share_tgw(w: World, account: str, name: str, tags: dict[str, str]) -> str:
    """A share of the world's TGW made outside this installation (plain boto3)."""
    out = w.ram().create_resource_share(
        name=name, resourceArns=[w.region.tgw_arn], principals=[account],
        allowExternalPrincipals=True, tags=[{"key": k, "value": v} for k, v in tags.items()],
    )  # fmt: skip
    return str(out["resourceShare"]["resourceShareArn"])


def _live_shares(w: World) -> set[str]:
    return {s.arn for s in w.provider.list_resource_shares()}


def _breakout_accounts(w: World) -> dict[int, str]:
    from linkplane.attachments.models import Breakout

    with w.ctx.sessionmaker() as session:
        return {b.id: b.aws_account_id for b in session.scalars(select(Breakout))}


def test_another_installations_shares_and_their_tgw_neighbours_are_never_repaired(
    world: World,
) -> None:
    """Shares of this TGW made by another installation (tagged with its id, or untagged from
    before installation ids for a breakout this database does not know): reported, never
    deleted; and since the TGW is then shared, nothing else unowned on it is removed either."""
    first = min(_breakout_accounts(world))
    tagged = _share_tgw(world, "666200000001", "linkplane-othr0001-breakout-1-r1",
                        {"linkplane:installation": "othr0001", "linkplane:breakout": str(first),
                         "linkplane:revision": "1"})  # fmt: skip
    legacy = _share_tgw(world, "666200000002", "linkplane-breakout-1-r1",
                        {"linkplane:breakout": str(first), "linkplane:revision": "1"})  # fmt: skip
    world.customer("666200000001").accept()
    theirs = world.attach_vpc("666200000001", "10.77.0.0/24")  # their customer, our TGW
    found = {f.resource: f for f in _audit(world).findings}
    assert (found[tagged].code, found[tagged].fixes) == ("foreign_share", ())
    assert "installation othr0001" in found[tagged].message
    assert (found[legacy].code, found[legacy].fixes) == ("foreign_share", ())
    assert (found[theirs].code, found[theirs].fixes) == ("unowned_attachment", ())
    done = service.repair(factory=world.ctx.sessionmaker, cloud_for=world.cloud_for,
                          findings=list(found.values()))  # fmt: skip
    assert done.repaired == [] and done.failed == []
    assert {tagged, legacy} <= _live_shares(world)
    attachment = world.provider.describe_attachment(theirs)
    assert attachment is not None and attachment.state == "pendingAcceptance"


def test_untagged_shares_of_own_breakouts_are_still_judged(world: World) -> None:
    """A database from before installation ids made untagged shares: one tagged with a
    breakout it recorded, shared with that breakout's account, is its own leftover."""
    bid, account = min(_breakout_accounts(world).items())
    leftover = _share_tgw(world, account, f"linkplane-breakout-{bid}-r0",
                          {"linkplane:breakout": str(bid), "linkplane:revision": "0"})  # fmt: skip
    found = _audit(world).findings
    assert [(f.code, f.resource) for f in found] == [("unowned_share", leftover)]
    assert service.repair(factory=world.ctx.sessionmaker, cloud_for=world.cloud_for,
                          findings=found).failed == []  # fmt: skip
    assert leftover not in _live_shares(world)
    assert _audit(world).findings == []


def test_repair_points_a_redirected_route_back_and_reinvites_a_removed_principal(
    world: World,
) -> None:
    """The two repairs that change a live resource instead of adding or removing one:
    a core route redirected to another attachment, a customer removed from its share."""
    r = world.region
    with world.ctx.sessionmaker() as session:
        from linkplane.attachments.models import Breakout

        rows = {b.org_id: b for b in session.scalars(select(Breakout))}
    a, b = rows[world.orgs[0].id], rows[world.orgs[1].id]
    world.ec2().replace_transit_gateway_route(
        TransitGatewayRouteTableId=r.core_table_id, DestinationCidrBlock="10.41.0.0/24",
        TransitGatewayAttachmentId=b.attachment_id)  # fmt: skip
    world.ram().disassociate_resource_share(resourceShareArn=a.share_arn,
                                            principals=[a.aws_account_id])  # fmt: skip
    found = _codes(_audit(world))
    assert found == {("changed_route", f"{r.core_table_id}#10.41.0.0/24"),
                     ("missing_principal", f"{a.share_arn}#{a.aws_account_id}")}  # fmt: skip
    done = service.repair(factory=world.ctx.sessionmaker, cloud_for=world.cloud_for,
                          findings=_audit(world).findings)  # fmt: skip
    assert done.failed == [] and len(done.repaired) == 2
    assert _audit(world).findings == []
    routes = world.provider.search_routes(r.core_table_id)
    assert [x.attachment_ids for x in routes if x.cidr == "10.41.0.0/24"] == [(a.attachment_id,)]


def test_audit_reports_a_transit_gateway_deleted_behind_linkplanes_back(world: World) -> None:
    """Issue 13 item 7: after the embedded cloud lost its state, audit said OK."""
    ec2, tgw = world.ec2(), world.region.tgw_id
    for att in ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]:
        if att["TransitGatewayId"] == tgw and att["ResourceType"] == "vpc":
            ec2.delete_transit_gateway_vpc_attachment(
                TransitGatewayAttachmentId=att["TransitGatewayAttachmentId"]
            )
    ec2.delete_transit_gateway(TransitGatewayId=tgw)

    findings = _audit(world).findings
    assert {f.code for f in findings} == {"missing_tgw"}  # nothing judged on a TGW that is gone
    assert sorted(f.org_id for f in findings) == sorted(o.id for o in world.orgs[:2])
    assert all(tgw in f.message and "region bootstrap" in f.message for f in findings)
    assert all(f.fixes == () for f in findings)


def test_audit_reports_a_share_deleted_behind_linkplanes_back(world: World) -> None:
    with world.ctx.sessionmaker() as session:
        from linkplane.attachments.models import Breakout

        row = session.scalars(select(Breakout).where(Breakout.org_id == world.orgs[0].id)).one()
    world.ram().delete_resource_share(resourceShareArn=row.share_arn)

    findings = _audit(world).findings
    assert ("missing_share", row.share_arn) in {(f.code, f.resource) for f in findings}
    assert [f.breakout_id for f in findings if f.code == "missing_share"] == [row.id]
