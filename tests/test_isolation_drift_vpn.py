"""The audit's rules for VPN breakouts, on values (no cloud): a VPN attachment of a
connection a breakout records is owned before the workflow records the attachment itself;
one nobody records is reported but never removed by repair (it goes with its connection);
a core route to a VPN attachment for an undeclared prefix is ``undeclared_vpn_route``."""

from __future__ import annotations

from linkplane.attachments.models import BREAKOUT_TAG, Status
from linkplane.cloud.port import (
    CustomerGateway,
    ResourceShare,
    ShareAssociation,
    TgwAttachment,
    TgwRoute,
    VpnConnection,
)
from linkplane.installation.tags import TAG as INSTALLATION_TAG
from linkplane.isolation import drift
from linkplane.isolation.state import CloudState, OwnedBreakout, Ownership, RegionSpec, VpnRecord

REGION = RegionSpec(name="eu-central-1", tgw_id="tgw-1", tgw_arn="arn:tgw-1",
                    core_table_id="rtb-core", customers_table_id="rtb-cust",
                    core_attachment_id="att-core", core_vpc_cidr="10.0.0.0/16",
                    device_cidr="100.64.0.0/10")  # fmt: skip


def _vpn_attachment(att_id: str, vpn_id: str) -> TgwAttachment:
    return TgwAttachment(id=att_id, transit_gateway_id="tgw-1", resource_type="vpn",
                         resource_id=vpn_id, resource_owner_id="111111111111",
                         state="pending")  # fmt: skip


def _breakout(status: Status, vpn_id: str, attachment_id: str | None) -> OwnedBreakout:
    return OwnedBreakout(id=7, org_id=1, region=REGION.name, account="", status=status,
                         cidrs=("10.7.0.0/24",), share_arn=None, attachment_id=attachment_id,
                         associated_table_id=None, core_table_id=None, routes=(),
                         vpn_connection_id=vpn_id)  # fmt: skip


def _audit(breakouts: list[OwnedBreakout], attachments: list[TgwAttachment],
           routes: list[TgwRoute] | None = None) -> list[drift.Drift]:  # fmt: skip
    cloud = CloudState(tables=[], routes={"rtb-core": routes or []}, attachments=attachments,
                       associations=[], propagations=[])  # fmt: skip
    found = drift.audit(REGION, cloud, breakouts, Ownership(installation="inst", accounts={}))
    # The region's own core attachment is not in this cloud: its findings are not ours.
    return [d for d in found if "att-core" not in d.resource + d.message]


def test_a_vpn_attachment_of_a_recorded_connection_is_owned_before_it_is_recorded() -> None:
    found = _audit([_breakout(Status.PENDING_EGN_ACTIVATION, "vpn-1", None)],
                   [_vpn_attachment("att-v1", "vpn-1")])  # fmt: skip
    assert [d.code for d in found] == []


def test_an_unrecorded_vpn_attachment_is_reported_but_not_removed() -> None:
    (found,) = _audit([], [_vpn_attachment("att-v2", "vpn-2")])
    assert found.code == "unowned_attachment" and found.fixes == ()


def test_a_core_route_to_a_vpn_for_an_undeclared_prefix_is_named() -> None:
    b = _breakout(Status.ACTIVE, "vpn-3", "att-v3")
    routes = [TgwRoute("rtb-core", "10.7.0.0/24", "static", "active", ("att-v3",)),
              TgwRoute("rtb-core", "10.66.0.0/16", "propagated", "active", ("att-v3",))]
    found = _audit([b], [_vpn_attachment("att-v3", "vpn-3")], routes)
    vpn = [(d.code, d.resource, d.fixes) for d in found if d.code == "undeclared_vpn_route"]
    assert vpn == [("undeclared_vpn_route", "rtb-core#10.66.0.0/16", ())]


def test_vpn_leftovers_are_repaired_even_on_a_transit_gateway_another_installation_shares(
) -> None:  # fmt: skip
    """Another installation's share makes the TGW shared (its unowned things are reported
    only), but a connection and gateway carrying this installation's tag are this one's."""
    tags = {BREAKOUT_TAG: "5", INSTALLATION_TAG: "inst"}
    foreign = ResourceShare(arn="arn:share-x", name="x", status="ACTIVE",
                            owner_account_id="1", tags={INSTALLATION_TAG: "other"})  # fmt: skip
    cloud = CloudState(
        tables=[], routes={}, attachments=[_vpn_attachment("att-v9", "vpn-9")],
        associations=[], propagations=[], shares=[foreign],
        share_resources=[ShareAssociation("arn:share-x", "arn:tgw-1", "RESOURCE", "ASSOCIATED")],
        vpn_connections=[VpnConnection("vpn-9", "available", "cgw-9", "tgw-1", True, tags=tags)],
        customer_gateways=[CustomerGateway("cgw-9", "203.0.113.9", 65000, "available", tags)],
    )  # fmt: skip
    ownership = Ownership("inst", {}, {5: VpnRecord(Status.DEACTIVATED, frozenset(),
                                                    frozenset())})  # fmt: skip
    found = {d.code: d for d in drift.audit(REGION, cloud, [], ownership)}
    assert found["foreign_share"].fixes == () and found["unowned_attachment"].fixes == ()
    assert [f.op for f in found["unowned_vpn_connection"].fixes] == [
        drift.FixOp.DELETE_VPN_CONNECTION]
    (gateway,) = found["unowned_customer_gateway"].fixes
    assert gateway.kwargs() == {"customer_gateway_id": "cgw-9", "after_vpn_connections": "vpn-9"}
