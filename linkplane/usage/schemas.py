"""emnify's stats shapes: volumes in MB (10^6 bytes), split by direction.

``tx`` is what the device transmitted, ``rx`` what it received (emnify's convention).
Only the ``data`` traffic type exists here: linkplane records no SMS.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from linkplane.usage.service import MB, DayVolume, Volume

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


class EndpointDayRead(BaseModel):
    date: date
    data: DataVolume


class OrgDataVolume(DataVolume):
    month: str


class OrgMonthData(BaseModel):
    data: OrgDataVolume


class OrgStatsRead(BaseModel):
    """Both months are always given for an organisation (zero without traffic)."""

    current_month: OrgMonthData
    last_month: OrgMonthData


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
