"""API callbacks and secrets of an organisation, and which service profile uses which."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from linkplane.callbacks import urls
from linkplane.callbacks.models import ApiCallback, ApiSecret, ProfileCallback
from linkplane.callbacks.schemas import CallbackIn, SecretIn
from linkplane.errors import Conflict, InvalidInput
from linkplane.events.service import record
from linkplane.tenancy.principal import Principal
from linkplane.tenancy.scope import get_scoped, scoped


def list_callbacks(*, session: Session, org_id: int) -> list[ApiCallback]:
    return list(session.scalars(scoped(select(ApiCallback), org_id).order_by(ApiCallback.id)))


def get_callback(*, session: Session, org_id: int, callback_id: int) -> ApiCallback:
    return get_scoped(
        session, ApiCallback, org_id, callback_id, what="API callback", field="api_callback_id"
    )


def create_callback(
    *,
    session: Session,
    org_id: int,
    data: CallbackIn,
    allowed: Sequence[urls.IPNetwork],
    principal: Principal | None = None,
) -> ApiCallback:
    url = urls.check_url(data.url.strip(), allowed)
    callback = ApiCallback(org_id=org_id, url=url, purpose=data.purpose)
    session.add(callback)
    session.flush()
    _record(session, org_id, f"API callback {callback.id} to {urls.shown(url)} created", principal)
    return callback


def _in_use(session: Session, column: InstrumentedAttribute[int | None], obj_id: int) -> list[int]:
    stmt = select(ProfileCallback.service_profile_id).where(column == obj_id)
    return sorted(session.scalars(stmt))


def delete_callback(
    *, session: Session, org_id: int, callback_id: int, principal: Principal | None = None
) -> None:
    callback = get_callback(session=session, org_id=org_id, callback_id=callback_id)
    users = _in_use(session, ProfileCallback.api_callback_id, callback_id)
    if users:
        raise Conflict(
            f"API callback {callback_id} is used by service profile(s) {users}",
            field="api_callback_id",
        )
    session.delete(callback)
    _record(session, org_id, f"API callback {callback_id} deleted", principal)


def list_secrets(*, session: Session, org_id: int) -> list[ApiSecret]:
    return list(session.scalars(scoped(select(ApiSecret), org_id).order_by(ApiSecret.id)))


def get_secret(*, session: Session, org_id: int, secret_id: int) -> ApiSecret:
    return get_scoped(
        session, ApiSecret, org_id, secret_id, what="API secret", field="api_secret_id"
    )


def create_secret(
    *, session: Session, org_id: int, data: SecretIn, principal: Principal | None = None
) -> ApiSecret:
    value = data.secret or random_secrets.token_urlsafe(32)
    if len(value.encode()) < 32 or not value.isprintable():
        raise InvalidInput("secret must be at least 32 printable characters", field="secret")
    secret = ApiSecret(org_id=org_id, secret=value, purpose=data.purpose)
    session.add(secret)
    session.flush()
    _record(session, org_id, f"API secret {secret.id} created", principal)
    return secret


def delete_secret(
    *, session: Session, org_id: int, secret_id: int, principal: Principal | None = None
) -> None:
    secret = get_secret(session=session, org_id=org_id, secret_id=secret_id)
    users = _in_use(session, ProfileCallback.api_secret_id, secret_id)
    if users:
        raise Conflict(
            f"API secret {secret_id} is used by service profile(s) {users}", field="api_secret_id"
        )
    session.delete(secret)
    _record(session, org_id, f"API secret {secret_id} deleted", principal)


def _record(session: Session, org_id: int, text: str, principal: Principal | None) -> None:
    record(
        session=session,
        org_id=org_id,
        event_type="API callback updated",
        description=text,
        principal=principal,
        entity_type="organisation",
        entity_id=org_id,
    )


# --- the link from service profiles -----------------------------------------------------------


def profile_links(
    *, session: Session, profile_ids: list[int]
) -> dict[int, tuple[ApiCallback | None, int | None]]:
    """Each profile's callback and secret id (profiles without either are left out)."""
    if not profile_ids:
        return {}
    stmt = (
        select(ProfileCallback, ApiCallback)
        .outerjoin(ApiCallback, ApiCallback.id == ProfileCallback.api_callback_id)
        .where(ProfileCallback.service_profile_id.in_(profile_ids))
    )
    return {
        link.service_profile_id: (callback, link.api_secret_id)
        for link, callback in session.execute(stmt)
    }


def link_profile(
    *, session: Session, org_id: int, profile_id: int, changes: dict[str, int | None]
) -> None:
    """Set or clear (``None``) the profile's ``api_callback`` / ``api_secret``; each id must
    be the organisation's (422 naming the field otherwise, as for other references)."""
    link = session.get(ProfileCallback, profile_id) or ProfileCallback(
        service_profile_id=profile_id, org_id=org_id
    )
    models: tuple[tuple[str, type[ApiCallback] | type[ApiSecret]], ...] = (
        ("api_callback", ApiCallback),
        ("api_secret", ApiSecret),
    )
    for field, model in models:
        if field not in changes:
            continue
        ref = changes[field]
        if ref is not None:
            owner = session.scalar(select(model.org_id).where(model.id == ref))
            if owner != org_id:
                raise InvalidInput(
                    f"{field.replace('_', ' ')} {ref} not found", field=f"{field}.id"
                )
        setattr(link, f"{field}_id", ref)
    session.add(link)
