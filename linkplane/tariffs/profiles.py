"""The tariff side of tariff profiles: their tariff, selected rate zones (where their
endpoints may be used), their inclusive volume, and the coverage that follows.

A tariff profile always has its organisation's tariff; a new one selects every active rate
zone of it (so a new profile covers what the tariff covers), clients deselect from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from linkplane.errors import Conflict, InvalidInput, LinkplaneError, NotFound
from linkplane.events.service import record
from linkplane.operators.service import Country, list_operators
from linkplane.profiles.models import TariffProfile
from linkplane.tariffs import service
from linkplane.tariffs.models import (
    CatalogueStatus,
    Ratezone,
    RatezoneCountry,
    Tariff,
    TariffProfileRatezone,
)
from linkplane.tenancy.principal import Principal


class InclusiveVolumeRefused(LinkplaneError):
    """emnify answers 400 for an expired inclusive volume, one of another tariff, or one
    not assigned to the profile."""

    code = "inclusive_volume_refused"


@dataclass(frozen=True)
class ProfileTariff:
    """What a tariff profile read shows of its tariff."""

    tariff: Tariff
    ratezones: list[tuple[Ratezone, bool]]
    volume: service.VolumeView | None
    used: int
    assigned: int


def tariff_for(*, session: Session, org_id: int, tariff_id: int | None) -> Tariff:
    """The tariff a profile of the organisation may have: the organisation's own (linkplane
    gives each organisation one tariff, as emnify does)."""
    tariff = service.org_tariff(session=session, org_id=org_id)
    if tariff_id is not None and tariff_id != tariff.id:
        raise InvalidInput(
            f"tariff {tariff_id} is not your organisation's tariff ({tariff.id} "
            f"{tariff.name!r}); PATCH /api/v1/organisation/{{id}}/tariff changes that",
            field="tariff.id",
        )
    return tariff


def describe(*, session: Session, profiles: list[TariffProfile]) -> dict[int, ProfileTariff]:
    """The tariff part of each profile's read, in a fixed number of queries."""
    tariff_ids = sorted({p.tariff_id for p in profiles if p.tariff_id is not None})
    tariffs = {t.id: t for t in session.scalars(select(Tariff).where(Tariff.id.in_(tariff_ids)))}
    zones = service.ratezones(session=session, tariff_ids=tariff_ids)
    selected = set(session.execute(select(
        TariffProfileRatezone.tariff_profile_id, TariffProfileRatezone.ratezone_id).where(
        TariffProfileRatezone.tariff_profile_id.in_([p.id for p in profiles]))).tuples())
    counts = {
        org: service.usage_counts(session=session, org_id=org, tariff_ids=tariff_ids)
        for org in {p.org_id for p in profiles}
    }
    result = {}
    for profile in profiles:
        tariff = tariffs.get(profile.tariff_id or 0)
        if tariff is None:
            continue
        mine = [(z, (profile.id, z.id) in selected) for z in zones if z.tariff_id == tariff.id]
        volume = None
        if profile.inclusive_volume_id is not None:
            volume = service.get_inclusive_volume(
                session=session, org_id=profile.org_id, volume_id=profile.inclusive_volume_id
            )
        used, assigned = counts[profile.org_id][tariff.id]
        result[profile.id] = ProfileTariff(tariff, mine, volume, used, assigned)
    return result


def _ratezone(session: Session, profile: TariffProfile, ratezone_id: int) -> Ratezone:
    zone = session.get(Ratezone, ratezone_id)
    if zone is None or zone.tariff_id != profile.tariff_id:
        raise NotFound(f"rate zone {ratezone_id} is not in the tariff profile's tariff",
                       field="ratezone_id")  # fmt: skip
    return zone


def select_ratezone(
    *, session: Session, profile: TariffProfile, ratezone_id: int, selected: bool,
    principal: Principal | None = None,
) -> None:  # fmt: skip
    """Select (only an active rate zone of the profile's tariff) or deselect a rate zone."""
    zone = _ratezone(session, profile, ratezone_id)
    key = {"tariff_profile_id": profile.id, "ratezone_id": zone.id}
    current = session.get(TariffProfileRatezone, (profile.id, zone.id))
    if selected:
        if zone.status_id != CatalogueStatus.ACTIVE:
            raise InvalidInput(f"rate zone {zone.name!r} is not active", field="ratezone_id")
        if current is None:
            session.add(TariffProfileRatezone(**key))
    elif current is None:
        raise NotFound(f"rate zone {zone.id} is not selected in this tariff profile",
                       field="ratezone_id")  # fmt: skip
    else:
        session.execute(delete(TariffProfileRatezone).filter_by(**key))
    record(
        session=session, org_id=profile.org_id, event_type="Tariff profile updated",
        description=f"tariff profile {profile.name!r}: rate zone {zone.name!r} "
                    + ("selected" if selected else "deselected"),
        principal=principal, entity_type="tariff_profile", entity_id=profile.id,
    )  # fmt: skip


def coverage(*, session: Session, profile: TariffProfile) -> list[tuple[Country, int]]:
    """The countries of the profile's selected rate zones, with how many operators each has
    (emnify's ``redundancy_count``), by country name."""
    link = TariffProfileRatezone
    stmt = (
        select(RatezoneCountry.country_id)
        .join(link, link.ratezone_id == RatezoneCountry.ratezone_id)
        .where(link.tariff_profile_id == profile.id)
    )
    wanted = set(session.scalars(stmt))
    operators: dict[int, tuple[Country, int]] = {}
    for op in list_operators():
        if op.country.id in wanted:
            _, seen = operators.get(op.country.id, (op.country, 0))
            operators[op.country.id] = (op.country, seen + 1)
    return sorted(operators.values(), key=lambda item: item[0].name)


def assign_volume(
    *, session: Session, profile: TariffProfile, volume_id: int,
    principal: Principal | None = None,
) -> None:  # fmt: skip
    """Count the profile's traffic against one of the organisation's inclusive volumes."""
    view = service.get_inclusive_volume(session=session, org_id=profile.org_id,
                                        volume_id=volume_id)  # fmt: skip
    if profile.inclusive_volume_id is not None:
        raise Conflict(
            f"the tariff profile already has inclusive volume {profile.inclusive_volume_id}: "
            "unassign it first",
            field="inclusive_volume_id",
        )
    end = view.assignment.end_date
    if end is not None and end < service.today_utc():
        raise InclusiveVolumeRefused(f"inclusive volume {volume_id} has expired",
                                     field="inclusive_volume_id")  # fmt: skip
    if view.tariff.id != profile.tariff_id:
        raise InclusiveVolumeRefused(
            f"inclusive volume {volume_id} is of tariff {view.tariff.name!r}, not the "
            "tariff profile's", field="inclusive_volume_id",
        )  # fmt: skip
    profile.inclusive_volume_id = volume_id
    _record_volume(session, profile, f"inclusive volume {volume_id} assigned", principal)


def unassign_volume(
    *, session: Session, profile: TariffProfile, volume_id: int,
    principal: Principal | None = None,
) -> None:  # fmt: skip
    service.get_inclusive_volume(session=session, org_id=profile.org_id, volume_id=volume_id)
    if profile.inclusive_volume_id != volume_id:
        raise InclusiveVolumeRefused(
            f"inclusive volume {volume_id} is not assigned to this tariff profile",
            field="inclusive_volume_id",
        )
    profile.inclusive_volume_id = None
    _record_volume(session, profile, f"inclusive volume {volume_id} unassigned", principal)


def _record_volume(
    session: Session, profile: TariffProfile, what: str, principal: Principal | None
) -> None:
    record(
        session=session, org_id=profile.org_id, event_type="Tariff profile updated",
        description=f"tariff profile {profile.name!r}: {what}", principal=principal,
        entity_type="tariff_profile", entity_id=profile.id,
    )  # fmt: skip
