"""RAM operations of the cross-account sharing flow, over moto's shares and our ledger.

Each function is one API action as seen by the calling account in one region; it validates,
changes state under :data:`ram_state.LOCK`, and returns the AWS response body as a dict.
Errors are raised as moto ``JsonRESTError`` with AWS's error codes, so botocore raises the
same ``ClientError`` it would against AWS. Rendering of records lives here too because the
shapes are AWS's, not ours.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time, utcnow
from moto.ram.models import ResourceShare, ram_backends

from linkplane.localcloud import ram_state, retention
from linkplane.localcloud.ram_state import (
    Association,
    AssociationStatus,
    AssociationType,
    Invitation,
    InvitationStatus,
    Ledger,
    now,
)

Body = dict[str, Any]

_INVITATION_ERRORS = {
    InvitationStatus.ACCEPTED: "ResourceShareInvitationAlreadyAcceptedException",
    InvitationStatus.REJECTED: "ResourceShareInvitationAlreadyRejectedException",
    InvitationStatus.EXPIRED: "ResourceShareInvitationExpiredException",
}


def ram_error(code: str, message: str) -> JsonRESTError:
    """An AWS RAM error as botocore parses it (HTTP 400, JSON ``__type``)."""
    return JsonRESTError(code, message)


def _ts(moment: datetime) -> float:
    return float(unix_time(moment.replace(tzinfo=None)))


# --- idempotency ------------------------------------------------------------------------


def idempotent(*, ledger: Ledger, action: str, params: Body, run: Callable[[], Body]) -> Body:
    """Run ``run`` once per ``clientToken``: a retry with the same parameters gets the first
    response again; the same token with other parameters is refused as AWS does."""
    token = params.get("clientToken") or str(uuid.uuid4())
    rest = {k: v for k, v in params.items() if k != "clientToken"}
    fingerprint = json.dumps(rest, sort_keys=True, default=str)
    record = ledger.tokens.get((action, token))
    if record is not None:
        if record.fingerprint != fingerprint:
            raise ram_error(
                "IdempotentParameterMismatchException",
                f"The client token {token} was already used with different parameters.",
            )
        return record.response
    response = {**run(), "clientToken": token}
    forget_old_tokens(ledger)
    ledger.tokens[(action, token)] = ram_state.IdempotencyRecord(fingerprint, response, now())
    return response


def forget_old_tokens(ledger: Ledger) -> None:
    """Free client tokens older than the retention window (AWS forgets them too; linkplane
    looks a share up before it creates one, so a late retry cannot duplicate it)."""
    moment = now()
    if not retention.due(ledger, moment):
        return
    cutoff = moment - retention.window()
    ledger.tokens = {key: record for key, record in ledger.tokens.items()
                     if record.created is None or record.created > cutoff}  # fmt: skip


def forget_deleted_shares(backend: Any) -> None:
    """Free the owner's shares deleted longer ago than the retention window, with their
    associations, tags and invitations (:mod:`..retention`). Under :data:`ram_state.LOCK`;
    lists and dictionaries are replaced, not changed in place (readers iterate unlocked)."""
    cutoff = now() - retention.window()
    gone = {share.arn for share in backend.resource_shares
            if share.status == "DELETED" and _aware(share.last_updated_time) <= cutoff}  # fmt: skip
    if not gone:
        return
    ledger = ram_state.ledger_of(backend)
    backend.resource_shares = [s for s in backend.resource_shares if s.arn not in gone]
    ledger.associations = {a: v for a, v in ledger.associations.items() if a not in gone}
    ledger.tags = {a: v for a, v in ledger.tags.items() if a not in gone}
    ledger.invitations = {arn: inv for arn, inv in ledger.invitations.items()
                          if inv.share_arn not in gone}  # fmt: skip


def _aware(moment: datetime) -> datetime:
    # moto stores naive UTC times; the ledger's are aware.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- look-ups -----------------------------------------------------------------------------


def backend_of(account_id: str, region: str) -> Any:
    return ram_backends[account_id][region]


def find_share(backend: Any, share_arn: str | None) -> ResourceShare:
    if not share_arn or not share_arn.startswith("arn:"):
        raise ram_error("MalformedArnException", f"The ARN {share_arn} is not valid.")
    for share in backend.resource_shares:
        if share.arn == share_arn:
            return share
    raise ram_error("UnknownResourceException", f"ResourceShare {share_arn} could not be found.")


def live_share(backend: Any, share_arn: str | None) -> ResourceShare:
    share = find_share(backend, share_arn)
    if share.status == "DELETED":
        raise ram_error(
            "UnknownResourceException", f"ResourceShare {share_arn} could not be found."
        )
    return share


def sweep(ledger: Ledger) -> None:
    """Expire due invitations; an expired invitation's principal is disassociated (AWS)."""
    for invitation in ledger.invitations.values():
        if invitation.status is not InvitationStatus.PENDING:
            continue
        if invitation.refresh():
            _drop_principal(ledger, invitation.share_arn, invitation.principal)


def _drop_principal(ledger: Ledger, share_arn: str, principal: str) -> None:
    assoc = ledger.find(share_arn, AssociationType.PRINCIPAL, principal)
    if assoc is not None and assoc.status is not AssociationStatus.DISASSOCIATED:
        assoc.move(AssociationStatus.DISASSOCIATED)


# --- rendering ----------------------------------------------------------------------------


def render_association(assoc: Association) -> Body:
    return {
        "resourceShareArn": assoc.share_arn,
        "resourceShareName": assoc.share_name,
        "associatedEntity": assoc.entity,
        "associationType": assoc.kind.value,
        "status": assoc.status.value,
        "creationTime": _ts(assoc.created),
        "lastUpdatedTime": _ts(assoc.updated),
        "external": assoc.external,
    }


def render_invitation(invitation: Invitation) -> Body:
    return {
        "resourceShareInvitationArn": invitation.arn,
        "resourceShareName": invitation.share_name,
        "resourceShareArn": invitation.share_arn,
        "senderAccountId": invitation.sender,
        "receiverAccountId": invitation.receiver,
        "invitationTimestamp": _ts(invitation.created),
        "status": invitation.status.value,
    }


def render_share(share: ResourceShare) -> Body:
    body: Body = share.describe()
    tags = ram_state.ledger_of(backend_of(share.account_id, share.region)).tags.get(share.arn)
    if tags:
        body["tags"] = [dict(t) for t in tags]
    return body


def tags_match(tags: list[dict[str, str]], filters: list[dict[str, Any]]) -> bool:
    """GetResourceShares ``tagFilters``: every filter's key present, with one of its values
    (any value when the filter lists none)."""
    values = {t.get("key"): t.get("value") for t in tags}
    return all(
        f.get("tagKey") in values
        and (not f.get("tagValues") or values[f.get("tagKey")] in f["tagValues"])
        for f in filters
    )


# --- associating principals and resources ------------------------------------------------


def _validate(backend: Any, principals: list[str], resource_arns: list[str]) -> None:
    """moto's own checks (principal and ARN syntax, shareable type) on a scratch share, so a
    bad entry rejects the whole request before anything is stored; plus ownership."""
    scratch = ResourceShare(backend.account_id, backend.region_name, name="validation")
    scratch.add_principals(principals)
    scratch.add_resources(resource_arns)
    for arn in resource_arns:
        if arn.split(":")[4] != backend.account_id:
            raise ram_error(
                "UnknownResourceException",
                f"Resource {arn} could not be found in account {backend.account_id}.",
            )


def _check_external(share: ResourceShare, owner: str, principals: list[str]) -> None:
    if share.allow_external_principals:
        return
    for principal in principals:
        account = ram_state.account_of(principal)
        if account is not None and account != owner:
            raise ram_error(
                "OperationNotPermittedException",
                f"Principal {principal} is outside your organization and the resource share "
                "does not allow external principals.",
            )


def _invite(backend: Any, ledger: Ledger, share: ResourceShare, principal: str) -> bool:
    """Send an invitation if ``principal`` needs one; True if it must wait for acceptance."""
    account = ram_state.account_of(principal)
    if account is None or account == backend.account_id:
        return False
    invitation = ram_state.new_invitation(
        share_arn=share.arn,
        share_name=share.name,
        sender=backend.account_id,
        receiver=account,
        principal=principal,
        region=backend.region_name,
        partition=share.partition,
    )
    ledger.invitations[invitation.arn] = invitation
    return True


def _associate_principal(
    backend: Any, ledger: Ledger, share: ResourceShare, principal: str
) -> Association:
    existing = ledger.find(share.arn, AssociationType.PRINCIPAL, principal)
    if existing is not None and existing.status is not AssociationStatus.DISASSOCIATED:
        return existing
    waits = _invite(backend, ledger, share, principal)
    status = AssociationStatus.ASSOCIATING if waits else AssociationStatus.ASSOCIATED
    if principal not in share.principals:
        share.principals.append(principal)
    if existing is not None:
        existing.move(status)
        return existing
    assoc = Association(
        share.arn, share.name, principal, AssociationType.PRINCIPAL, status, external=waits
    )
    ledger.of_share(share.arn).append(assoc)
    return assoc


def _associate_resource(ledger: Ledger, share: ResourceShare, arn: str) -> Association:
    if arn not in share.resource_arns:
        share.resource_arns.append(arn)
    existing = ledger.find(share.arn, AssociationType.RESOURCE, arn)
    if existing is not None:
        if existing.status is AssociationStatus.DISASSOCIATED:
            existing.move(AssociationStatus.ASSOCIATED)
        return existing
    assoc = Association(
        share.arn,
        share.name,
        arn,
        AssociationType.RESOURCE,
        AssociationStatus.ASSOCIATED,
        external=False,
    )
    ledger.of_share(share.arn).append(assoc)
    return assoc


def _associate_all(
    backend: Any, share: ResourceShare, principals: list[str], resource_arns: list[str]
) -> list[Association]:
    ledger = ram_state.ledger_of(backend)
    sweep(ledger)  # an expired principal is re-invited, not left as it was
    done = [_associate_resource(ledger, share, arn) for arn in dict.fromkeys(resource_arns)]
    for principal in dict.fromkeys(principals):
        done.append(_associate_principal(backend, ledger, share, principal))
    return done


# --- mutating actions ---------------------------------------------------------------------


def create_resource_share(*, account_id: str, region: str, params: Body) -> Body:
    backend = backend_of(account_id, region)
    principals: list[str] = params.get("principals") or []
    resource_arns: list[str] = params.get("resourceArns") or []

    def run() -> Body:
        if not params.get("name"):
            raise ram_error("InvalidParameterException", "The name parameter is required.")
        share = ResourceShare(account_id, region, **params)
        _validate(backend, principals, resource_arns)
        _check_external(share, account_id, principals)
        forget_deleted_shares(backend)  # churn must not grow the cloud
        backend.resource_shares.append(share)
        ram_state.ledger_of(backend).tags[share.arn] = list(params.get("tags") or [])
        _associate_all(backend, share, principals, resource_arns)
        body = render_share(share)
        body.pop("featureSet")
        return {"resourceShare": body}

    with ram_state.LOCK:
        return idempotent(
            ledger=ram_state.ledger_of(backend), action="create", params=params, run=run
        )


def associate_resource_share(*, account_id: str, region: str, params: Body) -> Body:
    backend = backend_of(account_id, region)
    principals: list[str] = params.get("principals") or []
    resource_arns: list[str] = params.get("resourceArns") or []

    def run() -> Body:
        share = live_share(backend, params.get("resourceShareArn"))
        _validate(backend, principals, resource_arns)
        _check_external(share, account_id, principals)
        done = _associate_all(backend, share, principals, resource_arns)
        share.last_updated_time = utcnow()
        return {"resourceShareAssociations": [render_association(a) for a in done]}

    with ram_state.LOCK:
        return idempotent(
            ledger=ram_state.ledger_of(backend), action="associate", params=params, run=run
        )


def _disassociate(
    ledger: Ledger, share: ResourceShare, kind: AssociationType, entity: str
) -> Association:
    assoc = ledger.find(share.arn, kind, entity)
    if assoc is None or assoc.status is AssociationStatus.DISASSOCIATED:
        raise ram_error(
            "UnknownResourceException",
            f"{entity} is not associated with resource share {share.arn}.",
        )
    assoc.move(AssociationStatus.DISASSOCIATED)
    members = share.principals if kind is AssociationType.PRINCIPAL else share.resource_arns
    if entity in members:
        members.remove(entity)
    for invitation in ledger.invitations.values():
        if invitation.share_arn == share.arn and invitation.principal == entity:
            invitation.withdrawn = True
    return assoc


def disassociate_resource_share(*, account_id: str, region: str, params: Body) -> Body:
    backend = backend_of(account_id, region)
    entities = [(AssociationType.PRINCIPAL, p) for p in params.get("principals") or []] + [
        (AssociationType.RESOURCE, r) for r in params.get("resourceArns") or []
    ]

    def run() -> Body:
        share = live_share(backend, params.get("resourceShareArn"))
        ledger = ram_state.ledger_of(backend)
        sweep(ledger)
        for kind, entity in entities:  # check all first: nothing half-done
            assoc = ledger.find(share.arn, kind, entity)
            if assoc is None or assoc.status is AssociationStatus.DISASSOCIATED:
                raise ram_error(
                    "UnknownResourceException",
                    f"{entity} is not associated with resource share {share.arn}.",
                )
        done = [_disassociate(ledger, share, kind, entity) for kind, entity in entities]
        return {"resourceShareAssociations": [render_association(a) for a in done]}

    with ram_state.LOCK:
        return idempotent(
            ledger=ram_state.ledger_of(backend), action="disassociate", params=params, run=run
        )


def delete_resource_share(*, account_id: str, region: str, params: Body) -> Body:
    """Status DELETED; every association DISASSOCIATED; its invitations withdrawn."""
    backend = backend_of(account_id, region)

    def run() -> Body:
        share = find_share(backend, params.get("resourceShareArn"))
        if share.status == "DELETED":
            raise ram_error(
                "InvalidStateTransitionException", f"ResourceShare {share.arn} is deleted."
            )
        ledger = ram_state.ledger_of(backend)
        for assoc in ledger.of_share(share.arn):
            if assoc.status is not AssociationStatus.DISASSOCIATED:
                assoc.move(AssociationStatus.DISASSOCIATED)
        for invitation in ledger.invitations.values():
            if invitation.share_arn == share.arn:
                invitation.withdrawn = True
        share.delete()
        return {"returnValue": True}

    with ram_state.LOCK:
        return idempotent(
            ledger=ram_state.ledger_of(backend), action="delete", params=params, run=run
        )


# --- invitations (called by the receiving account) ---------------------------------------


def find_invitation(*, account_id: str, arn: str | None) -> tuple[Ledger, Invitation]:
    """The caller's invitation by ARN; another account's or a withdrawn one is not found."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or not parts[5].startswith("resource-share-invitation/"):
        raise ram_error("MalformedArnException", f"The invitation ARN {arn} is not valid.")
    region, sender = parts[3], parts[4]
    for backend in ram_state.regional_backends(region):
        if backend.account_id != sender:
            continue
        ledger = ram_state.ledger_of(backend)
        sweep(ledger)
        invitation = ledger.invitations.get(arn or "")
        if invitation and invitation.receiver == account_id and not invitation.withdrawn:
            return ledger, invitation
    raise ram_error(
        "ResourceShareInvitationArnNotFoundException", f"Invitation {arn} could not be found."
    )


def _answer(*, account_id: str, region: str, params: Body, accept: bool) -> Body:
    def run() -> Body:
        ledger, invitation = find_invitation(
            account_id=account_id, arn=params.get("resourceShareInvitationArn")
        )
        if invitation.status is not InvitationStatus.PENDING:
            code = _INVITATION_ERRORS[invitation.status]
            raise ram_error(code, f"Invitation {invitation.arn} is {invitation.status.value}.")
        assoc = ledger.find(invitation.share_arn, AssociationType.PRINCIPAL, invitation.principal)
        if accept:
            invitation.status = InvitationStatus.ACCEPTED
            if assoc is not None:
                assoc.move(AssociationStatus.ASSOCIATED)
        else:
            invitation.status = InvitationStatus.REJECTED
            _drop_principal(ledger, invitation.share_arn, invitation.principal)
        return {"resourceShareInvitation": render_invitation(invitation)}

    action = "accept" if accept else "reject"
    with ram_state.LOCK:
        own = ram_state.ledger_of(backend_of(account_id, region))
        return idempotent(ledger=own, action=action, params=params, run=run)


def accept_resource_share_invitation(*, account_id: str, region: str, params: Body) -> Body:
    return _answer(account_id=account_id, region=region, params=params, accept=True)


def reject_resource_share_invitation(*, account_id: str, region: str, params: Body) -> Body:
    return _answer(account_id=account_id, region=region, params=params, accept=False)
