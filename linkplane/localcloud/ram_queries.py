"""Read-only RAM actions of the sharing flow, answered from stored state (never echoed filters).

Like :mod:`ram_ops`, each function is one API action for the calling account and region and
returns the AWS response body. Pagination (``maxResults``/``nextToken``) is not emulated:
every match is returned in one page without a ``nextToken``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.ram.models import ResourceShare

from linkplane.localcloud import ram_state
from linkplane.localcloud.ram_ops import (
    Body,
    backend_of,
    ram_error,
    render_association,
    render_invitation,
    render_share,
    sweep,
    tags_match,
)
from linkplane.localcloud.ram_state import AssociationStatus, AssociationType

_OWNERS = ("SELF", "OTHER-ACCOUNTS")
_ASSOCIATION_STATUSES = {s.value for s in AssociationStatus}


def _owner(params: Body) -> str:
    owner = params.get("resourceOwner")
    if owner not in _OWNERS:
        raise ram_error(
            "InvalidParameterException",
            f"{owner} is not a valid resource owner. Specify either SELF or OTHER-ACCOUNTS.",
        )
    return str(owner)


def _accessible(account_id: str, region: str) -> Iterator[tuple[Any, ResourceShare]]:
    """(owner backend, share) of live shares of other accounts where the caller is an
    ASSOCIATED principal: what AWS calls shared with you."""
    for backend in ram_state.regional_backends(region):
        if backend.account_id == account_id:
            continue
        ledger = ram_state.ledger_of(backend)
        sweep(ledger)
        for share in backend.resource_shares:
            assoc = ledger.find(share.arn, AssociationType.PRINCIPAL, account_id)
            live = share.status != "DELETED"
            if live and assoc is not None and assoc.status is AssociationStatus.ASSOCIATED:
                yield backend, share


def _owned(account_id: str, region: str) -> Iterator[tuple[Any, ResourceShare]]:
    backend = backend_of(account_id, region)
    sweep(ram_state.ledger_of(backend))
    for share in backend.resource_shares:
        yield backend, share


def get_resource_share_invitations(*, account_id: str, region: str, params: Body) -> Body:
    """Invitations the caller received in ``region``; withdrawn ones are not listed."""
    share_arns = set(params.get("resourceShareArns") or [])
    invitation_arns = set(params.get("resourceShareInvitationArns") or [])
    found = []
    with ram_state.LOCK:
        for backend in ram_state.regional_backends(region):
            ledger = ram_state.ledger_of(backend)
            sweep(ledger)
            for inv in ledger.invitations.values():
                if inv.receiver != account_id or inv.withdrawn:
                    continue
                if share_arns and inv.share_arn not in share_arns:
                    continue
                if invitation_arns and inv.arn not in invitation_arns:
                    continue
                found.append(render_invitation(inv))
    return {"resourceShareInvitations": found}


def get_resource_shares(*, account_id: str, region: str, params: Body) -> Body:
    owner = _owner(params)
    arns = set(params.get("resourceShareArns") or [])
    status = params.get("resourceShareStatus")
    name = params.get("name")
    tag_filters = params.get("tagFilters") or []
    with ram_state.LOCK:
        pairs = _owned if owner == "SELF" else _accessible
        shares = [share for _, share in pairs(account_id, region)]
        rendered = [
            render_share(s)
            for s in shares
            if (not arns or s.arn in arns)
            and (status is None or s.status == status)
            and (name is None or s.name == name)
        ]
    return {"resourceShares": [r for r in rendered if tags_match(r.get("tags", []), tag_filters)]}


def _check_association_query(params: Body) -> tuple[str, str | None]:
    kind = params.get("associationType")
    status = params.get("associationStatus")
    if kind not in ("PRINCIPAL", "RESOURCE"):
        raise ram_error("InvalidParameterException", f"{kind} is not a valid association type.")
    if status is not None and status not in _ASSOCIATION_STATUSES:
        raise ram_error("InvalidParameterException", f"{status} is not a valid association status.")
    if kind == "PRINCIPAL" and params.get("resourceArn"):
        raise ram_error(
            "InvalidParameterException",
            "You cannot specify a resource ARN when the association type is PRINCIPAL.",
        )
    if kind == "RESOURCE" and params.get("principal"):
        raise ram_error(
            "InvalidParameterException",
            "You cannot specify a principal when the association type is RESOURCE.",
        )
    return str(kind), status


def get_resource_share_associations(*, account_id: str, region: str, params: Body) -> Body:
    """Associations of the caller's own shares, with their stored status."""
    kind, status = _check_association_query(params)
    arns = set(params.get("resourceShareArns") or [])
    entity = params.get("principal") or params.get("resourceArn")
    found = []
    with ram_state.LOCK:
        backend = backend_of(account_id, region)
        ledger = ram_state.ledger_of(backend)
        sweep(ledger)
        for share in backend.resource_shares:
            if arns and share.arn not in arns:
                continue
            for assoc in ledger.of_share(share.arn):
                if assoc.kind.value != kind or (entity and assoc.entity != entity):
                    continue
                if status is None or assoc.status.value == status:
                    found.append(render_association(assoc))
    return {"resourceShareAssociations": found}


def resource_type_of(arn: str) -> str:
    """AWS's resource type name, e.g. ``ec2:TransitGateway`` for a transit-gateway ARN."""
    parts = arn.split(":", 5)
    kind = parts[5].split("/")[0].split(":")[0]
    return f"{parts[2]}:{''.join(word.capitalize() for word in kind.split('-'))}"


def _resources_of(backend: Any, share: ResourceShare) -> Iterator[Body]:
    ledger = ram_state.ledger_of(backend)
    for assoc in ledger.of_share(share.arn):
        if assoc.kind is AssociationType.RESOURCE and assoc.status is AssociationStatus.ASSOCIATED:
            yield {
                "arn": assoc.entity,
                "type": resource_type_of(assoc.entity),
                "resourceShareArn": share.arn,
                "status": "AVAILABLE",
                "creationTime": render_association(assoc)["creationTime"],
                "lastUpdatedTime": render_association(assoc)["lastUpdatedTime"],
                "resourceRegionScope": "REGIONAL",
            }


def list_resources(*, account_id: str, region: str, params: Body) -> Body:
    """Resources in the caller's live shares (SELF) or shared with it (OTHER-ACCOUNTS)."""
    owner = _owner(params)
    share_arns = set(params.get("resourceShareArns") or [])
    arns = set(params.get("resourceArns") or [])
    rtype = (params.get("resourceType") or "").lower()
    with ram_state.LOCK:
        pairs = _owned if owner == "SELF" else _accessible
        rows = [
            row
            for backend, share in pairs(account_id, region)
            if share.status != "DELETED" and (not share_arns or share.arn in share_arns)
            for row in _resources_of(backend, share)
        ]
    return {
        "resources": [
            r
            for r in rows
            if (not arns or r["arn"] in arns) and (not rtype or r["type"].lower() == rtype)
        ]
    }
