"""Services, limit periods and the predefined SMS limits (emnify's read-only look-ups).

emnify documents only two ids of this catalogue: Data is service 38 and Voice is service 3
(which a profile may carry although voice is not offered). linkplane numbers the SMS
services like emnify's ``sms_type`` (1 MT, 2 MO) and serves the whole list at
``GET /api/v1/service``, so clients can look the ids up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ServiceId(IntEnum):
    SMS_MT = 1
    SMS_MO = 2
    VOICE = 3
    DATA = 38


@dataclass(frozen=True)
class Service:
    id: ServiceId
    description: str
    #: emnify traffic types: 5 Data, 6 SMS (as in the usage statistics); voice has none here.
    traffic_type: tuple[int, str] | None
    used_with_vlr: bool
    used_with_sgsn: bool


SERVICES: tuple[Service, ...] = (
    Service(ServiceId.SMS_MT, "SMS MT", (6, "SMS"), True, True),
    Service(ServiceId.SMS_MO, "SMS MO", (6, "SMS"), True, True),
    Service(ServiceId.VOICE, "Voice", None, True, False),
    Service(ServiceId.DATA, "Data", (5, "Data"), False, True),
)
_SERVICES = {s.id: s for s in SERVICES}
#: What a new service profile offers (existing profiles got the same in migration 0008).
DEFAULT_SERVICES = (ServiceId.SMS_MT, ServiceId.SMS_MO, ServiceId.DATA)


def service(service_id: int) -> Service | None:
    try:
        return _SERVICES.get(ServiceId(service_id))
    except ValueError:
        return None


class PeriodId(IntEnum):
    DAY = 1
    MONTH = 2


PERIOD_UNIT = {PeriodId.DAY: "day", PeriodId.MONTH: "month"}


@dataclass(frozen=True)
class SmsLimit:
    """A predefined limit a profile's SMS service can be given ("assignment style")."""

    id: int
    service_id: ServiceId
    volume: int  # SMS per period
    period: PeriodId


SMS_LIMITS: tuple[SmsLimit, ...] = (
    SmsLimit(1, ServiceId.SMS_MT, 10, PeriodId.DAY),
    SmsLimit(2, ServiceId.SMS_MT, 100, PeriodId.DAY),
    SmsLimit(3, ServiceId.SMS_MT, 1000, PeriodId.MONTH),
    SmsLimit(4, ServiceId.SMS_MO, 10, PeriodId.DAY),
    SmsLimit(5, ServiceId.SMS_MO, 100, PeriodId.DAY),
    SmsLimit(6, ServiceId.SMS_MO, 1000, PeriodId.MONTH),
)
_SMS_LIMITS = {limit.id: limit for limit in SMS_LIMITS}


def sms_limit(limit_id: int) -> SmsLimit | None:
    return _SMS_LIMITS.get(limit_id)
