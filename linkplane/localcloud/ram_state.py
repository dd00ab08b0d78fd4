"""State the embedded RAM keeps beside moto's: invitations, associations, idempotency tokens.

moto 5.2.5 stores a resource share as a list of principals and a list of resource ARNs and
invents the association status on every read. AWS stores one association per entity with
its own lifecycle, and an invitation per external account. This module holds that state,
attached to moto's own backend object (``ram_backends[owner][region]``), so resetting moto
resets it too. It knows nothing of HTTP; ``ram_ext`` renders it.

Association states chosen from the AWS RAM documentation:

- A principal association for an account outside the owner's organization (every other
  account here: the embedded cloud has no organizations) starts ``ASSOCIATING`` with a
  ``PENDING`` invitation; accepting makes it ``ASSOCIATED``. Rejecting, expiry ("the
  invitation expires and the ... principal in the resource share is disassociated") and
  disassociation make it ``DISASSOCIATED``: the principal loses access.
- Principals that need no invitation (the owner itself, organization/OU ARNs, service
  principals) are ``ASSOCIATED`` at once.
- A resource association is between the share and a resource of the owner; it does not wait
  for any principal, so it is ``ASSOCIATED`` at once (the console shows "Associated" for the
  resource while the principal is still "Associating").
- Deleting a share marks every association ``DISASSOCIATED`` and its pending invitations
  unusable (they vanish from the receiver's list; accepting one fails as not found).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

TTL_ENV = "LINKPLANE_INVITATION_TTL_SECONDS"
DEFAULT_TTL = timedelta(days=7)

# One lock for all RAM state: the HTTP server is threaded and invitations span accounts.
LOCK = threading.RLock()


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class AssociationStatus(StrEnum):
    ASSOCIATING = "ASSOCIATING"
    ASSOCIATED = "ASSOCIATED"
    FAILED = "FAILED"
    DISASSOCIATING = "DISASSOCIATING"
    DISASSOCIATED = "DISASSOCIATED"


class AssociationType(StrEnum):
    PRINCIPAL = "PRINCIPAL"
    RESOURCE = "RESOURCE"


@dataclass
class _Clock:
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ttl_override: timedelta | None = None


_clock = _Clock()


def now() -> datetime:
    return _clock.now()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock used for invitation timestamps and expiry (tests); None restores it."""
    _clock.now = clock or (lambda: datetime.now(UTC))


def set_invitation_ttl(seconds: float | None) -> None:
    """Override the invitation lifetime for invitations created from now on; None restores
    the environment's ``LINKPLANE_INVITATION_TTL_SECONDS`` or AWS's 7 days."""
    _clock.ttl_override = None if seconds is None else timedelta(seconds=seconds)


def invitation_ttl() -> timedelta:
    if _clock.ttl_override is not None:
        return _clock.ttl_override
    raw = os.environ.get(TTL_ENV)
    return timedelta(seconds=float(raw)) if raw else DEFAULT_TTL


@dataclass
class Association:
    share_arn: str
    share_name: str
    entity: str
    kind: AssociationType
    status: AssociationStatus
    external: bool
    created: datetime = field(default_factory=now)
    updated: datetime = field(default_factory=now)

    def move(self, status: AssociationStatus) -> None:
        self.status = status
        self.updated = now()


@dataclass
class Invitation:
    arn: str
    share_arn: str
    share_name: str
    sender: str
    receiver: str
    principal: str  # the share's principal this invites: the account id or an IAM ARN in it
    region: str
    created: datetime
    expires: datetime
    status: InvitationStatus = InvitationStatus.PENDING
    withdrawn: bool = False  # share deleted or principal removed: no longer offered

    def refresh(self) -> bool:
        """A pending invitation past its deadline is expired from then on; True if it just
        expired."""
        if self.status is InvitationStatus.PENDING and now() >= self.expires:
            self.status = InvitationStatus.EXPIRED
            return True
        return False


@dataclass
class IdempotencyRecord:
    fingerprint: str
    response: dict[str, Any]
    #: When the token was first used: records are freed after the retention window.
    created: datetime | None = None


@dataclass
class Ledger:
    """Extension state of one (owner account, region) RAM backend."""

    associations: dict[str, list[Association]] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    tokens: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    #: Share ARN -> its tags as CreateResourceShare got them (moto 5.2.5 drops them).
    tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def of_share(self, share_arn: str) -> list[Association]:
        return self.associations.setdefault(share_arn, [])

    def find(self, share_arn: str, kind: AssociationType, entity: str) -> Association | None:
        for assoc in self.of_share(share_arn):
            if assoc.kind is kind and assoc.entity == entity:
                return assoc
        return None


_ATTR = "_linkplane_ledger"


def ledger_of(backend: Any) -> Ledger:
    """The ledger attached to a moto RAM backend, created on first use."""
    ledger: Ledger | None = getattr(backend, _ATTR, None)
    if ledger is None:
        ledger = Ledger()
        setattr(backend, _ATTR, ledger)
    return ledger


def new_invitation(
    *,
    share_arn: str,
    share_name: str,
    sender: str,
    receiver: str,
    principal: str,
    region: str,
    partition: str,
) -> Invitation:
    created = now()
    return Invitation(
        arn=f"arn:{partition}:ram:{region}:{sender}:resource-share-invitation/{uuid.uuid4()}",
        share_arn=share_arn,
        share_name=share_name,
        sender=sender,
        receiver=receiver,
        principal=principal,
        region=region,
        created=created,
        expires=created + invitation_ttl(),
    )


def regional_backends(region: str) -> list[Any]:
    """Every RAM backend of ``region`` that exists, over all accounts."""
    from moto.ram.models import ram_backends

    found = []
    # dict.get, not [] or `in`: moto's mapping creates backends on lookup.
    for per_account in list(dict.values(ram_backends)):
        backend = dict.get(per_account, region)
        if backend is not None:
            found.append(backend)
    return found


def account_of(principal: str) -> str | None:
    """The 12-digit account a principal belongs to, if it is an account or IAM principal."""
    if len(principal) == 12 and principal.isdigit():
        return principal
    parts = principal.split(":")
    if len(parts) >= 6 and parts[2] == "iam" and parts[4].isdigit():
        return parts[4]
    return None
