"""Service and tariff profiles of one organisation: CRUD, usage, and look-ups for endpoints."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.callbacks import service as callbacks
from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, NotFound
from linkplane.events.service import record
from linkplane.profiles import regions
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.profiles.schemas import (
    ServiceProfileCreate,
    ServiceProfileUpdate,
    TariffProfileCreate,
    TariffProfileUpdate,
)
from linkplane.tariffs import profiles as tariffs
from linkplane.tariffs import service as tariff_service
from linkplane.tenancy.principal import Principal
from linkplane.trafficlimits import service as traffic

P = TypeVar("P", ServiceProfile, TariffProfile)
#: References kept by the callbacks feature, not columns of the profile.
CALLBACK_REFS = frozenset({"api_callback", "api_secret"})
#: Fields the profile keeps as something other than the request's value.
NOT_COLUMNS = set(CALLBACK_REFS | {"breakout_region"})

_LABEL = {ServiceProfile: "service profile", TariffProfile: "tariff profile"}
_FIELD = {ServiceProfile: "service_profile", TariffProfile: "tariff_profile"}
_USAGE = {ServiceProfile: Endpoint.service_profile_id, TariffProfile: Endpoint.tariff_profile_id}


def _get(session: Session, model: type[P], org_id: int, profile_id: int) -> P:
    profile = session.get(model, profile_id)
    if profile is None or profile.org_id != org_id:
        raise NotFound(f"{_LABEL[model]} {profile_id} not found", field=_FIELD[model])
    return profile


def get_service_profile(*, session: Session, org_id: int, profile_id: int) -> ServiceProfile:
    return _get(session, ServiceProfile, org_id, profile_id)


def get_tariff_profile(*, session: Session, org_id: int, profile_id: int) -> TariffProfile:
    return _get(session, TariffProfile, org_id, profile_id)


def list_service_profiles(*, session: Session, org_id: int) -> list[ServiceProfile]:
    stmt = select(ServiceProfile).where(ServiceProfile.org_id == org_id)
    return list(session.scalars(stmt.order_by(ServiceProfile.id)))


def list_tariff_profiles(*, session: Session, org_id: int) -> list[TariffProfile]:
    stmt = select(TariffProfile).where(TariffProfile.org_id == org_id)
    return list(session.scalars(stmt.order_by(TariffProfile.id)))


def usage_counts(*, session: Session, model: type[P], ids: list[int]) -> dict[int, int]:
    """Endpoints using each profile, in one grouped query."""
    column = _USAGE[model]
    if not ids:
        return {}
    stmt = select(column, func.count()).where(column.in_(ids)).group_by(column)
    return {int(pid): int(n) for pid, n in session.execute(stmt)}


def _create(
    session: Session,
    model: type[P],
    org_id: int,
    values: dict[str, Any],
    principal: Principal | None,
) -> P:
    profile = model(org_id=org_id, **values)
    session.add(profile)
    session.flush()
    label = _LABEL[model]
    record(
        session=session, org_id=org_id, event_type=f"{label.capitalize()} created",
        description=f"{label} {profile.name!r} created", principal=principal,
        entity_type=_FIELD[model], entity_id=profile.id,
    )  # fmt: skip
    return profile


def create_service_profile(
    *, session: Session, org_id: int, data: ServiceProfileCreate, principal: Principal | None = None
) -> ServiceProfile:
    values = data.model_dump(exclude_none=True, exclude=NOT_COLUMNS)
    values["breakout_region"] = regions.resolve(session, data.breakout_region)
    profile = _create(session, ServiceProfile, org_id, values, principal)
    traffic.add_default_services(session=session, profile=profile)
    _link_callbacks(session, profile, data)
    return profile


def _link_callbacks(session: Session, profile: ServiceProfile, data: ServiceProfileUpdate) -> None:
    changes = {f: getattr(data, f).id for f in CALLBACK_REFS & data.model_fields_set
               if getattr(data, f) is not None}  # fmt: skip
    if changes:
        callbacks.link_profile(session=session, org_id=profile.org_id, profile_id=profile.id,
                               changes=changes)  # fmt: skip


def create_tariff_profile(
    *, session: Session, org_id: int, data: TariffProfileCreate, principal: Principal | None = None
) -> TariffProfile:
    """A tariff profile of the organisation's tariff, with all its rate zones selected."""
    tariff = tariffs.tariff_for(session=session, org_id=org_id,
                                tariff_id=data.tariff.id if data.tariff else None)  # fmt: skip
    values = data.model_dump(exclude_none=True, exclude={"tariff"})
    profile = _create(session, TariffProfile, org_id, {**values, "tariff_id": tariff.id},
                      principal)  # fmt: skip
    tariff_service.select_all_ratezones(session=session, profile_ids=[profile.id],
                                        tariff_id=tariff.id)  # fmt: skip
    return profile


def _update(
    session: Session, profile: P, values: dict[str, Any], principal: Principal | None
) -> P:
    for key, value in values.items():
        if value is None and key == "name":
            continue  # a name can be changed, not removed
        setattr(profile, key, value)
    label = _LABEL[type(profile)]
    record(
        session=session, org_id=profile.org_id, event_type=f"{label.capitalize()} updated",
        description=f"{label} {profile.name!r} updated", principal=principal,
        entity_type=_FIELD[type(profile)], entity_id=profile.id, detail=values,
    )  # fmt: skip
    return profile


def update_service_profile(
    *, session: Session, org_id: int, profile_id: int, data: ServiceProfileUpdate,
    principal: Principal | None = None,
) -> ServiceProfile:  # fmt: skip
    profile = get_service_profile(session=session, org_id=org_id, profile_id=profile_id)
    _link_callbacks(session, profile, data)
    values = data.model_dump(exclude_unset=True, exclude=NOT_COLUMNS)
    if "breakout_region" in data.model_fields_set:
        region = regions.resolve(session, data.breakout_region)
        regions.check_change(session, profile, region)
        values["breakout_region"] = region
    return _update(session, profile, values, principal)


def update_tariff_profile(
    *, session: Session, org_id: int, profile_id: int, data: TariffProfileUpdate,
    principal: Principal | None = None,
) -> TariffProfile:  # fmt: skip
    profile = get_tariff_profile(session=session, org_id=org_id, profile_id=profile_id)
    values = data.model_dump(exclude_unset=True, exclude={"tariff"})
    if data.tariff is not None:
        tariff = tariffs.tariff_for(session=session, org_id=org_id, tariff_id=data.tariff.id)
        if tariff.id != profile.tariff_id:
            # emnify: a changed tariff removes the rate zone selections.
            tariff_service.clear_ratezones(session=session, profile_ids=[profile.id])
            values.update(tariff_id=tariff.id, inclusive_volume_id=None)
    return _update(session, profile, values, principal)


def delete_profile(
    *, session: Session, model: type[P], org_id: int, profile_id: int,
    principal: Principal | None = None,
) -> None:  # fmt: skip
    """Delete a profile no endpoint uses (emnify answers 409 for one in use)."""
    profile = _get(session, model, org_id, profile_id)
    used = usage_counts(session=session, model=model, ids=[profile.id]).get(profile.id, 0)
    label = _LABEL[model]
    if used:
        raise Conflict(f"{label} {profile_id} is used by {used} endpoint(s)", field=_FIELD[model])
    session.delete(profile)
    record(
        session=session, org_id=org_id, event_type=f"{label.capitalize()} deleted",
        description=f"{label} {profile.name!r} deleted", principal=principal,
        entity_type=_FIELD[model], entity_id=profile_id,
    )  # fmt: skip
