"""Transit gateways: default route table per the options, visibility through RAM, deletion.

AWS: "If you disable both default route table association and propagation, AWS does not create
a default route table" (TGW guide, "Transit gateway route tables"); a gateway shared through
RAM is visible to accounts that accepted the share; a gateway with attachments that are not
deleted cannot be deleted (``IncorrectState``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linkplane.localcloud.ec2 import errors, filters, model, views
from linkplane.localcloud.ec2.backends import visible_tgws

Item = dict[str, Any]


def fix_default_route_table(tgw: Any) -> None:
    """Undo the default route table moto always creates, where the options say AWS would not,
    and flag it only for the roles (association/propagation) that are enabled."""
    association = tgw.options.get("DefaultRouteTableAssociation") == "enable"
    propagation = tgw.options.get("DefaultRouteTablePropagation") == "enable"
    table = tgw.default_route_table
    if not association:
        tgw.options.pop("AssociationDefaultRouteTableId", None)
    if not propagation:
        tgw.options.pop("PropagationDefaultRouteTableId", None)
    if table is None:
        return
    if not (association or propagation):
        tgw.ec2_backend.transit_gateways_route_tables.pop(table.id, None)
        tgw.default_route_table = None
        return
    table.default_association_route_table = association
    table.default_propagation_route_table = propagation


def describe(
    viewer_backend: Any, ids: Sequence[str], wanted: Mapping[str, Sequence[str]]
) -> list[Item]:
    tgws = visible_tgws(viewer_backend.account_id, viewer_backend.region_name)
    if ids:
        known = {t.id for t in tgws}
        missing = [i for i in ids if i not in known]
        if missing:
            raise errors.tgw_not_found(missing[0])
        tgws = [t for t in tgws if t.id in ids]
    rendered = [views.gateway(t, viewer_backend) for t in tgws]
    return filters.apply(rendered, wanted, views.GATEWAY_FIELDS)


def check_deletable(caller_backend: Any, tgw_id: str) -> None:
    tgw = caller_backend.transit_gateways.get(tgw_id)
    if tgw is None:
        raise errors.tgw_not_found(tgw_id)
    live = [
        a.id
        for a in caller_backend.transit_gateway_attachments.values()
        if tgw_id in model.tgw_ids(a) and a.state not in model.TERMINAL_STATES
    ]
    if live:
        raise errors.incorrect_state(
            f"{tgw_id} has non-deleted Transit Gateway Attachments: {live}"
        )
