"""Who may see a shared resource: the pure query the EC2 extension asks RAM.

AWS makes a Transit Gateway visible to another account once that account is an
``ASSOCIATED`` principal of a live resource share holding the gateway's ARN. These
functions answer that question from the embedded RAM's state; they never create a moto
backend, never raise for unknown accounts, and take RAM's lock so a concurrent accept or
delete is seen entirely or not at all.
"""

from __future__ import annotations

from typing import Any

from linkplane.localcloud import ram_state
from linkplane.localcloud.ram_state import AssociationStatus, AssociationType


def _arn_parts(resource_arn: str) -> tuple[str, str] | None:
    """(region, owner account) of an ARN, e.g. arn:aws:ec2:REGION:OWNER:transit-gateway/tgw-1."""
    parts = resource_arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[3], parts[4]


def _live_shares(backend: Any) -> list[Any]:
    return [share for share in backend.resource_shares if share.status != "DELETED"]


def _is_associated(
    ledger: ram_state.Ledger, share_arn: str, kind: AssociationType, entity: str
) -> bool:
    assoc = ledger.find(share_arn, kind, entity)
    return assoc is not None and assoc.status is AssociationStatus.ASSOCIATED


def _shared_into(backend: Any, account_id: str) -> set[str]:
    """ARNs of resources that ``backend``'s live shares give ``account_id`` access to."""
    ledger = ram_state.ledger_of(backend)
    found: set[str] = set()
    for share in _live_shares(backend):
        if not _is_associated(ledger, share.arn, AssociationType.PRINCIPAL, account_id):
            continue
        for resource_arn in share.resource_arns:
            if _is_associated(ledger, share.arn, AssociationType.RESOURCE, resource_arn):
                found.add(resource_arn)
    return found


def is_shared_with(resource_arn: str, account_id: str) -> bool:
    """True iff ``account_id`` owns the resource, or a non-deleted share of the resource's
    owner, in the resource's region, has the account as an ASSOCIATED principal."""
    parts = _arn_parts(resource_arn)
    if parts is None:
        return False
    region, owner = parts
    if owner == account_id:
        return True
    with ram_state.LOCK:
        for backend in ram_state.regional_backends(region):
            if backend.account_id == owner and resource_arn in _shared_into(backend, account_id):
                return True
    return False


def shared_resource_arns(account_id: str, region: str) -> set[str]:
    """ARNs of resources of other accounts shared with ``account_id`` in ``region`` (accepted,
    share not deleted). Resources the account owns itself are not listed."""
    with ram_state.LOCK:
        found: set[str] = set()
        for backend in ram_state.regional_backends(region):
            if backend.account_id != account_id:
                found |= _shared_into(backend, account_id)
    return found
