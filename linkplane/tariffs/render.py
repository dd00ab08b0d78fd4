"""The one rendering of tariffs and inclusive volumes, shared by the tariff and tariff
profile routes."""

from __future__ import annotations

from linkplane.tariffs import service
from linkplane.tariffs.models import CURRENCIES, InclusiveVolume, Ratezone, Tariff
from linkplane.tariffs.profiles import ProfileTariff
from linkplane.tariffs.schemas import (
    CatalogueVolumeRead,
    CurrencyRead,
    OrgInclusiveVolumeRead,
    ProfileVolumeRead,
    RatezoneRead,
    TariffRead,
    TariffRef,
)


def currency(currency_id: int) -> CurrencyRead:
    code, symbol = CURRENCIES.get(currency_id, ("EUR", "€"))
    return CurrencyRead(id=currency_id, code=code, symbol=symbol)


def ratezone(zone: Ratezone, selected: bool | None = None) -> RatezoneRead:
    return RatezoneRead(id=zone.id, name=zone.name, ratezone_status_id=zone.status_id,
                        selected=selected)  # fmt: skip


def tariff(
    row: Tariff, zones: list[tuple[Ratezone, bool | None]], used: int, assigned: int
) -> TariffRead:
    return TariffRead(
        id=row.id, name=row.name, description=row.description, created=row.created,
        tariff_status_id=str(row.status_id), currency_id=str(row.currency_id),
        currency=currency(row.currency_id), used_count=str(used), assigned_count=str(assigned),
        ratezone=[ratezone(z, s) for z, s in zones],
    )  # fmt: skip


def offer(volume: InclusiveVolume, zone: Ratezone, row: Tariff) -> CatalogueVolumeRead:
    return CatalogueVolumeRead(id=volume.id, volume=volume.volume, rate=volume.rate,
                               currency=currency(row.currency_id), ratezone=ratezone(zone))


def org_volume(view: service.VolumeView) -> OrgInclusiveVolumeRead:
    a = view.assignment
    return OrgInclusiveVolumeRead(
        id=a.id, volume=view.offer.volume, rate=view.offer.rate, pooled=a.pooled,
        start_date=service.as_datetime(a.start_date),
        end_date=service.as_datetime(a.end_date, end=True) if a.end_date else None,
        currency=currency(view.tariff.currency_id),
        tariff=TariffRef(id=view.tariff.id, name=view.tariff.name,
                         tariff_status_id=view.tariff.status_id,
                         ratezone=ratezone(view.ratezone)),
    )  # fmt: skip


def profile_volume(view: service.VolumeView) -> ProfileVolumeRead:
    a = view.assignment
    return ProfileVolumeRead(
        id=a.id, volume=view.offer.volume, rate=view.offer.rate, pooled=a.pooled,
        start_date=a.start_date.isoformat(),
        end_date=a.end_date.isoformat() if a.end_date else None,
        ratezone=ratezone(view.ratezone), currency=currency(view.tariff.currency_id),
    )  # fmt: skip


def profile_tariff(part: ProfileTariff) -> tuple[TariffRead, ProfileVolumeRead | None]:
    zones: list[tuple[Ratezone, bool | None]] = list(part.ratezones)
    volume = profile_volume(part.volume) if part.volume else None
    return tariff(part.tariff, zones, part.used, part.assigned), volume
