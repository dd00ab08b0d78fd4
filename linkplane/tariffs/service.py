"""Tariffs of organisations and their inclusive volumes (emnify's organization.yml).

Months are UTC calendar months; an inclusive volume runs from the first day of its start
month to the last day of its end month (or on). The tariff profile side (rate zone
selections, a profile's inclusive volume, coverage) is in :mod:`linkplane.tariffs.profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.profiles.models import TariffProfile
from linkplane.tariffs.models import (
    CatalogueStatus,
    InclusiveVolume,
    OrganisationTariff,
    OrgInclusiveVolume,
    Ratezone,
    Tariff,
    TariffProfileRatezone,
)
from linkplane.tenancy.principal import Principal


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return month_start(month_start(day) + timedelta(days=32)) - timedelta(days=1)


def today_utc() -> date:
    return utcnow().date()


# --- the catalogue -------------------------------------------------------------------------


def list_tariffs(*, session: Session, active_only: bool = True) -> list[Tariff]:
    stmt = select(Tariff).order_by(Tariff.id)
    if active_only:
        stmt = stmt.where(Tariff.status_id == CatalogueStatus.ACTIVE)
    return list(session.scalars(stmt))


def get_tariff(*, session: Session, tariff_id: int, field: str = "tariff") -> Tariff:
    tariff = session.get(Tariff, tariff_id)
    if tariff is None:
        raise NotFound(f"tariff {tariff_id} not found", field=field)
    return tariff


def ratezones(*, session: Session, tariff_ids: list[int]) -> list[Ratezone]:
    """The rate zones of the tariffs, lowest id first."""
    if not tariff_ids:
        return []
    stmt = select(Ratezone).where(Ratezone.tariff_id.in_(tariff_ids)).order_by(Ratezone.id)
    return list(session.scalars(stmt))


def offers(*, session: Session, tariff_id: int, ratezone_id: int) -> list[InclusiveVolume]:
    """The inclusive volumes on offer in a rate zone of the tariff (404 if it is not one)."""
    zone = session.get(Ratezone, ratezone_id)
    if zone is None or zone.tariff_id != tariff_id:
        raise NotFound(f"rate zone {ratezone_id} of tariff {tariff_id} not found",
                       field="ratezone_id")  # fmt: skip
    stmt = select(InclusiveVolume).where(InclusiveVolume.ratezone_id == ratezone_id)
    return list(session.scalars(stmt.order_by(InclusiveVolume.volume, InclusiveVolume.id)))


def usage_counts(
    *, session: Session, org_id: int, tariff_ids: list[int]
) -> dict[int, tuple[int, int]]:
    """Per tariff: the organisation's tariff profiles using it, and 1 if it is the
    organisation's tariff (counts over every organisation would tell one tenant about
    the others)."""
    stmt = (
        select(TariffProfile.tariff_id, func.count())
        .where(TariffProfile.org_id == org_id, TariffProfile.tariff_id.in_(tariff_ids))
        .group_by(TariffProfile.tariff_id)
    )
    used = {int(t): int(n) for t, n in session.execute(stmt)}
    own = org_tariff(session=session, org_id=org_id).id
    return {t: (used.get(t, 0), int(t == own)) for t in tariff_ids}


# --- an organisation's tariff --------------------------------------------------------------


def default_tariff(*, session: Session) -> Tariff:
    """What an organisation has until it changes it: the catalogue's first active tariff."""
    tariffs = list_tariffs(session=session)
    if not tariffs:
        raise NotFound("the provider's tariff catalogue has no active tariff", field="tariff")
    return tariffs[0]


def org_tariff(*, session: Session, org_id: int) -> Tariff:
    row = session.get(OrganisationTariff, org_id)
    if row is None:
        return default_tariff(session=session)
    return get_tariff(session=session, tariff_id=row.tariff_id)


def change_org_tariff(
    *, session: Session, org_id: int, tariff_id: int, principal: Principal | None = None
) -> Tariff:
    """Give the organisation another tariff (emnify's PATCH .../tariff): its tariff profiles
    move to it with all its rate zones selected (so endpoints keep connectivity), and its
    inclusive volumes end (running ones with last month, later ones are dropped)."""
    tariff = get_tariff(session=session, tariff_id=tariff_id, field="id")
    if tariff.status_id != CatalogueStatus.ACTIVE:
        raise InvalidInput(f"tariff {tariff_id} is not active", field="id")
    current = org_tariff(session=session, org_id=org_id)
    row = session.get(OrganisationTariff, org_id)
    if row is None:
        session.add(OrganisationTariff(org_id=org_id, tariff_id=tariff.id))
    else:
        row.tariff_id = tariff.id
    if current.id == tariff.id:
        return tariff
    _end_inclusive_volumes(session, org_id)
    profile_ids = list(session.scalars(select(TariffProfile.id).where(
        TariffProfile.org_id == org_id)))  # fmt: skip
    session.execute(update(TariffProfile).where(TariffProfile.org_id == org_id).values(
        tariff_id=tariff.id, inclusive_volume_id=None))  # fmt: skip
    select_all_ratezones(session=session, profile_ids=profile_ids, tariff_id=tariff.id)
    record(
        session=session, org_id=org_id, event_type="Organisation tariff changed",
        description=f"tariff {current.name!r} -> {tariff.name!r}", principal=principal,
        entity_type="organisation", entity_id=org_id,
        detail={"from": current.id, "to": tariff.id},
    )  # fmt: skip
    return tariff


def clear_ratezones(*, session: Session, profile_ids: list[int]) -> None:
    """Deselect every rate zone of the profiles."""
    if profile_ids:
        session.execute(delete(TariffProfileRatezone).where(
            TariffProfileRatezone.tariff_profile_id.in_(profile_ids)))  # fmt: skip


def select_all_ratezones(*, session: Session, profile_ids: list[int], tariff_id: int) -> None:
    """Replace the profiles' rate zone selections by every active rate zone of the tariff."""
    if not profile_ids:
        return
    clear_ratezones(session=session, profile_ids=profile_ids)
    zones = [z.id for z in ratezones(session=session, tariff_ids=[tariff_id])
             if z.status_id == CatalogueStatus.ACTIVE]  # fmt: skip
    rows = [{"tariff_profile_id": p, "ratezone_id": z} for p in profile_ids for z in zones]
    if rows:
        session.execute(insert(TariffProfileRatezone), rows)


def _end_inclusive_volumes(session: Session, org_id: int) -> None:
    this_month = month_start(today_utc())
    later = select(OrgInclusiveVolume.id).where(
        OrgInclusiveVolume.org_id == org_id, OrgInclusiveVolume.start_date >= this_month
    )
    # Profiles first: the reference has no ON DELETE action.
    session.execute(update(TariffProfile).where(TariffProfile.inclusive_volume_id.in_(later))
                    .values(inclusive_volume_id=None))  # fmt: skip
    session.execute(delete(OrgInclusiveVolume).where(OrgInclusiveVolume.id.in_(later)))
    session.execute(update(OrgInclusiveVolume).where(
        OrgInclusiveVolume.org_id == org_id, _running(this_month)
    ).values(end_date=this_month - timedelta(days=1)))  # fmt: skip


# --- an organisation's inclusive volumes ---------------------------------------------------


@dataclass(frozen=True)
class VolumeView:
    """An organisation's inclusive volume with what it is an offer of."""

    assignment: OrgInclusiveVolume
    offer: InclusiveVolume
    ratezone: Ratezone
    tariff: Tariff


def _running(day: date) -> ColumnElement[bool]:
    return or_(OrgInclusiveVolume.end_date.is_(None), OrgInclusiveVolume.end_date >= day)


def _views(session: Session, *where: ColumnElement[bool]) -> list[VolumeView]:
    stmt = (
        select(OrgInclusiveVolume, InclusiveVolume, Ratezone, Tariff)
        .join(InclusiveVolume, InclusiveVolume.id == OrgInclusiveVolume.inclusive_volume_id)
        .join(Ratezone, Ratezone.id == InclusiveVolume.ratezone_id)
        .join(Tariff, Tariff.id == Ratezone.tariff_id)
        .where(*where)
        .order_by(OrgInclusiveVolume.id)
    )
    return [VolumeView(*row) for row in session.execute(stmt)]


def active_inclusive_volumes(
    *, session: Session, org_id: int, today: date | None = None
) -> list[VolumeView]:
    """The organisation's inclusive volumes of the current month (not ended, not future)."""
    now = today or today_utc()
    return _views(session, OrgInclusiveVolume.org_id == org_id,
                  OrgInclusiveVolume.start_date <= now, _running(now))  # fmt: skip


def get_inclusive_volume(*, session: Session, org_id: int, volume_id: int) -> VolumeView:
    found = _views(session, OrgInclusiveVolume.org_id == org_id,
                   OrgInclusiveVolume.id == volume_id)  # fmt: skip
    if not found:
        raise NotFound(f"inclusive volume {volume_id} not found", field="inclusive_volume_id")
    return found[0]


def _months(start: date | None, end: date | None, today: date) -> tuple[date, date | None]:
    first = month_start(start) if start else month_start(today)
    if start and start != first:
        raise InvalidInput("start_date must be the first day of a month", field="start_date")
    if first < month_start(today):
        raise InvalidInput("start_date must be this month or later", field="start_date")
    if end is not None and end != month_end(end):
        raise InvalidInput("end_date must be the last day of a month", field="end_date")
    if end is not None and end < first:
        raise InvalidInput("end_date must not be before start_date", field="end_date")
    return first, end


def assign_inclusive_volume(
    *, session: Session, org_id: int, inclusive_volume_id: int, start: date | None,
    end: date | None, pooled: bool, principal: Principal | None = None,
) -> OrgInclusiveVolume:  # fmt: skip
    """Assign an inclusive volume on offer in the organisation's tariff. One per rate zone
    and month: a running one may only be upgraded (a larger volume), which ends it the
    month before the new one starts."""
    offer = session.get(InclusiveVolume, inclusive_volume_id)
    zone = session.get(Ratezone, offer.ratezone_id) if offer else None
    tariff = org_tariff(session=session, org_id=org_id)
    if offer is None or zone is None or zone.tariff_id != tariff.id:
        raise NotFound(f"inclusive volume {inclusive_volume_id} is not offered in your "
                       f"tariff {tariff.name!r}", field="inclusive_volume_id")  # fmt: skip
    first, last = _months(start, end, today_utc())
    for other in _views(session, OrgInclusiveVolume.org_id == org_id, Ratezone.id == zone.id,
                        _running(first)):  # fmt: skip
        _make_room(session, other, offer, first)
    assignment = OrgInclusiveVolume(org_id=org_id, inclusive_volume_id=offer.id,
                                    start_date=first, end_date=last, pooled=pooled)  # fmt: skip
    session.add(assignment)
    session.flush()
    record(
        session=session, org_id=org_id, event_type="Inclusive volume assigned",
        description=f"{offer.volume:g} MB a month in {zone.name} from {first:%Y-%m}",
        principal=principal, entity_type="inclusive_volume", entity_id=assignment.id,
    )  # fmt: skip
    return assignment


def _make_room(
    session: Session, other: VolumeView, offer: InclusiveVolume, first: date
) -> None:
    """End ``other`` before ``first`` if ``offer`` upgrades it, else refuse (409)."""
    if offer.volume <= other.offer.volume:
        raise Conflict(
            f"inclusive volume {other.assignment.id} ({other.offer.volume:g} MB) already runs "
            f"in {other.ratezone.name} then: only a larger volume can replace it",
            field="inclusive_volume_id",
        )
    if other.assignment.start_date >= first:
        raise Conflict(
            f"inclusive volume {other.assignment.id} starts in the same month: change that one",
            field="inclusive_volume_id",
        )
    other.assignment.end_date = first - timedelta(days=1)


def volume_totals(*, session: Session, org_id: int) -> tuple[float, float]:
    """Monthly rates of the organisation's running inclusive volumes: (pooled, unpooled)."""
    pooled = unpooled = 0.0
    for view in active_inclusive_volumes(session=session, org_id=org_id):
        if view.assignment.pooled:
            pooled += view.offer.rate
        else:
            unpooled += view.offer.rate
    return pooled, unpooled


def as_datetime(day: date, *, end: bool = False) -> datetime:
    """emnify's dates of inclusive volumes: midnight UTC, or 23:59:59 for an end date."""
    moment = datetime(day.year, day.month, day.day, tzinfo=utcnow().tzinfo)
    return moment + timedelta(hours=23, minutes=59, seconds=59) if end else moment
