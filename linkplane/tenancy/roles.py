"""User roles, what they permit, and support tokens.

linkplane gives each user exactly one role (emnify allows several): assigning a role
replaces the current one, and removing a user's only role is refused, as emnify refuses
removing the last role. The last active administrator of an organisation keeps the role.

A support token is how a provider administrator looks into a customer's organisation on
that customer's behalf: a read-only (observer) application token of the target user's
organisation, valid for ``support_token_ttl_seconds``, created with an event there and
listed among the organisation's application tokens, where its administrators can revoke it
at any time (docs/api-compat.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.errors import Conflict, Forbidden, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.ids import ascii_digits, in_range
from linkplane.settings import Settings
from linkplane.tenancy import security, service
from linkplane.tenancy.models import ApplicationToken, TokenStatus, User, UserStatus
from linkplane.tenancy.principal import Principal, Role

#: What each role may do, per resource of an organisation (the answer of
#: ``GET /user/{id}/role/permission``). Observers read everything, administrators also write.
RESOURCES = (
    "endpoint", "sim", "service_profile", "tariff_profile", "ip_address_space", "sms",
    "quota", "event", "user", "application_token", "cloud_connect", "organisation",
)  # fmt: skip
ACTIONS: dict[Role, tuple[str, ...]] = {Role.ADMIN: ("read", "write"), Role.OBSERVER: ("read",)}
#: Provider administrators also manage other organisations (and create support tokens).
PROVIDER_RESOURCES = ("organisations", "support_token")


@dataclass(frozen=True)
class Permission:
    resource: str
    actions: tuple[str, ...]


def permissions(*, session: Session, principal: Principal, user_ref: str | int) -> tuple[
    Role, list[Permission]
]:  # fmt: skip
    user = service.get_user(session=session, org_id=principal.org_id, user_ref=user_ref)
    role = Role(user.role)
    granted = [Permission(r, ACTIONS[role]) for r in RESOURCES]
    org = service.get_org(session=session, org_id=user.org_id)
    if org.is_provider and role is Role.ADMIN:
        granted += [Permission(r, ("read", "write")) for r in PROVIDER_RESOURCES]
    return role, granted


def assign_role(*, session: Session, principal: Principal, user_ref: str | int, role: Role) -> User:
    """Give the user ``role`` (replacing their one role; a no-op if they have it)."""
    user = service.get_user(session=session, org_id=principal.org_id, user_ref=user_ref)
    if user.role == role.value:
        return user
    return service.update_user(
        session=session, principal=principal, user_ref=user.id,
        changes=service.UserChanges(role=role),
    )  # fmt: skip


def remove_role(*, session: Session, principal: Principal, user_ref: str | int, role: Role) -> None:
    """Always refused for an existing user: in linkplane a user has exactly one role."""
    user = service.get_user(session=session, org_id=principal.org_id, user_ref=user_ref)
    if user.role != role.value:
        raise NotFound(f"user {user.id} does not have role {role.value}", field="role_id")
    raise Conflict(
        "a user keeps exactly one role: assign the other role with PUT instead of removing "
        "this one",
        field="role_id",
    )


def create_support_token(
    *, session: Session, settings: Settings, principal: Principal, user_ref: str, role: Role
) -> str:
    """A read-only auth_token into the organisation of user ``user_ref`` (any organisation;
    provider administrators only, checked by the caller's route)."""
    if role is not Role.OBSERVER:
        raise InvalidInput("support tokens are read-only: role must be 3 (Observer)",
                           field="role")  # fmt: skip
    user = _support_target(session, user_ref)
    if user.id == principal.user_id:
        raise Forbidden("a support token is for another user's organisation, not your own")
    now = utcnow()
    expiry = now + timedelta(seconds=settings.support_token_ttl_seconds)
    token = ApplicationToken(
        org_id=user.org_id,
        # The secret is never handed out: the caller gets an auth_token bound to this row.
        token_hash=security.token_hash(security.new_token()),
        description=f"Support access to {user.username}, read-only until {expiry:%Y-%m-%d %H:%M}",
        status=TokenStatus.ACTIVATED,
        role=Role.OBSERVER.value,
        creator_id=principal.user_id,
        created_at=now,
        expiry_date=expiry,
    )
    session.add(token)
    session.flush()
    record(
        session=session, org_id=user.org_id, event_type="Support token created",
        principal=principal,
        description=f"Read-only support token {token.id} created for user {user.username}; "
        f"revoke it as application token {token.id}",
        entity_type="application_token", entity_id=token.id,
    )  # fmt: skip
    return service.mint(settings=settings, org_id=user.org_id, role=Role.OBSERVER.value,
                        app_token_id=token.id, now=now)  # fmt: skip


def _support_target(session: Session, user_ref: str) -> User:
    known = ascii_digits(user_ref) and in_range(int(user_ref))
    user = session.get(User, int(user_ref)) if known else None
    if user is None or user.status != UserStatus.ACTIVE:
        raise NotFound(f"user {user_ref} not found or not active", field="user_id")
    return user
