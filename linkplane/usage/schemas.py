"""emnify's stats shapes: volumes in MB (10^6 bytes), split by direction.

``tx`` is what the device transmitted, ``rx`` what it received (emnify's convention).
Only the ``data`` traffic type exists here: linkplane records no SMS.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from linkplane.sims.models import SimStatus
from linkplane.usage.service import MB, DayVolume, Volume
from linkplane.usage.stats import SimMonth

#: emnify's traffic type id of cellular data.
DATA_TRAFFIC_TYPE_ID = 5


class TrafficType(BaseModel):
    id: int = DATA_TRAFFIC_TYPE_ID
    description: str = "Data"
    unit: str = "MB"


def _mb(value: int) -> float:
    # Six decimals keep every byte: a volume never rounds a small device down to zero.
    return round(value / MB, 6)


class DataVolume(BaseModel):
    volume: float
    volume_tx: float
    volume_rx: float
    traffic_type: TrafficType

    @classmethod
    def of(cls, volume: Volume) -> DataVolume:
        return cls(
            volume=_mb(volume.total), volume_tx=_mb(volume.tx), volume_rx=_mb(volume.rx),
            traffic_type=TrafficType(),
        )  # fmt: skip


class MonthData(BaseModel):
    data: DataVolume


class EndpointStatsRead(BaseModel):
    """``last_month`` and ``current_month`` appear only when there was traffic (as emnify).
    ``last_hour`` is never given: the mobile core delivers whole days."""

    last_month: MonthData | None = None
    current_month: MonthData | None = None


class SimMonthVolume(DataVolume):
    """emnify's SIM month: the volume plus which SIM, month and traffic type it is, and a
    generated ``id`` of SIM id, year, month and traffic type (``1234562024035``)."""

    id: int
    sim_id: int
    month: date
    traffic_type_id: int = DATA_TRAFFIC_TYPE_ID
    last_updated: datetime | None = None

    @classmethod
    def of_month(cls, sim_id: int, month: SimMonth) -> SimMonthVolume:
        generated = int(f"{sim_id}{month.start:%Y%m}{DATA_TRAFFIC_TYPE_ID}")
        base = DataVolume.of(month.volume).model_dump()
        return cls(**base, id=generated, sim_id=sim_id, month=month.start,
                   last_updated=month.last_updated)  # fmt: skip


class SimMonthData(BaseModel):
    data: SimMonthVolume


class SimStatsRead(BaseModel):
    """Like the endpoint's: a month appears only when there was traffic; no ``last_hour``."""

    last_month: SimMonthData | None = None
    current_month: SimMonthData | None = None

    @classmethod
    def of(cls, sim_id: int, current: SimMonth, last: SimMonth) -> SimStatsRead:
        def month(m: SimMonth) -> SimMonthData | None:
            return SimMonthData(data=SimMonthVolume.of_month(sim_id, m)) if m.volume.total else None

        return cls(current_month=month(current), last_month=month(last))


class EndpointDayRead(BaseModel):
    date: date
    data: DataVolume


class OrgDataVolume(DataVolume):
    month: str


class OrgMonthData(BaseModel):
    data: OrgDataVolume


class SimCounts(BaseModel):
    issued: int
    factory_mode: int
    active: int
    suspended: int
    total: int

    @classmethod
    def of(cls, counts: dict[SimStatus, int]) -> SimCounts:
        return cls(
            issued=counts.get(SimStatus.ISSUED, 0),
            factory_mode=counts.get(SimStatus.FACTORY_TEST, 0),
            active=counts.get(SimStatus.ACTIVATED, 0),
            suspended=counts.get(SimStatus.SUSPENDED, 0), total=sum(counts.values()),
        )  # fmt: skip


class InclusiveVolumeCost(BaseModel):
    """Monthly rates of the organisation's running inclusive volumes."""

    pooled: float
    unpooled: float


class OrgStatsRead(BaseModel):
    """Both months are always given for an organisation (zero without traffic); the SIM,
    profile and user counts and the inclusive volumes' rates as emnify gives them."""

    current_month: OrgMonthData
    last_month: OrgMonthData
    sim: SimCounts
    service_profiles: int
    tariff_profiles: int
    users: int
    inclusive_volume: InclusiveVolumeCost


class OrgDayVolume(BaseModel):
    """emnify's organisation daily stats give volumes as decimal strings."""

    volume: str
    volume_tx: str
    volume_rx: str
    traffic_type_id: str
    traffic_type: TrafficType


class OrgDayRead(BaseModel):
    date: str
    data: OrgDayVolume

    @classmethod
    def of(cls, day: DayVolume) -> OrgDayRead:
        v = day.volume
        return cls(
            date=day.day.isoformat(),
            data=OrgDayVolume(
                volume=f"{v.total / MB:.6f}", volume_tx=f"{v.tx / MB:.6f}",
                volume_rx=f"{v.rx / MB:.6f}", traffic_type_id=str(DATA_TRAFFIC_TYPE_ID),
                traffic_type=TrafficType(),
            ),
        )  # fmt: skip


class HourlySeries(BaseModel):
    """emnify's hourly series: ``[["HH:mm", "<MB>"], ...]`` per direction (``rx`` what the
    devices received, ``tx`` what they sent)."""

    rx: list[tuple[str, str]]
    tx: list[tuple[str, str]]


class OrgHourlyRead(BaseModel):
    data: HourlySeries

    @classmethod
    def of(cls, hours: list[tuple[datetime, Volume]]) -> OrgHourlyRead:
        def mb(value: int) -> str:
            return f"{value / MB:.6f}"

        return cls(data=HourlySeries(
            rx=[(h.strftime("%H:%M"), mb(v.rx)) for h, v in hours],
            tx=[(h.strftime("%H:%M"), mb(v.tx)) for h, v in hours],
        ))  # fmt: skip
