"""Whether a device may receive (MT) or send (MO) one more SMS now, and charging it.

The service profile must offer the SMS service (1 SMS MT, 2 SMS MO); with
``apply_sms_quota`` the endpoint needs an SMS quota with SMS left (none at all: refused, as
emnify); each predefined SMS limit assigned to that service caps its day or month.
"""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.devices.models import Endpoint
from linkplane.profiles.models import ServiceProfile
from linkplane.quotas import service as quotas
from linkplane.quotas.models import QuotaKind, QuotaStatus
from linkplane.sms.models import Sms, SmsStatus, SmsType
from linkplane.trafficlimits import service as limits
from linkplane.trafficlimits.catalogue import PeriodId, ServiceId

SERVICE_OF = {SmsType.MT: ServiceId.SMS_MT, SmsType.MO: ServiceId.SMS_MO}


def service_refusal(*, session: Session, profile: ServiceProfile, sms_type: SmsType) -> str | None:
    service = SERVICE_OF[sms_type]
    if limits.has_service(session=session, profile_id=profile.id, service_id=service):
        return None
    return (
        f"its service profile {profile.id} does not offer SMS {sms_type.name} (service "
        f"{int(service)}): PUT /api/v1/service_profile/{profile.id}/service/{int(service)}"
    )


def _period_start(period: PeriodId, now: datetime) -> datetime:
    day = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    return day if period == PeriodId.DAY else day.replace(day=1)


def count_delivered(
    *, session: Session, endpoint_id: int, sms_type: SmsType, since: datetime
) -> int:
    stmt = (
        select(func.count())
        .select_from(Sms)
        .where(
            Sms.endpoint_id == endpoint_id,
            Sms.sms_type == int(sms_type),
            Sms.status == int(SmsStatus.DELIVERED),
            Sms.final_date >= since,
        )
    )
    return int(session.scalar(stmt) or 0)


def _quota_refusal(session: Session, endpoint: Endpoint, now: datetime) -> str | None:
    quota = quotas.find(session=session, endpoint_id=endpoint.id, kind=QuotaKind.SMS)
    if quota is None:
        return "no SMS quota is set and its service profile applies SMS quotas"
    quotas.refresh(session=session, quota=quota, endpoint=endpoint, now=now)
    if quotas.available(quota) == 0:
        status = QuotaStatus(quota.status)
        return f"its SMS quota is {'used up' if status == QuotaStatus.EXHAUSTED else status.name}"
    return None


def refusal(
    *,
    session: Session,
    endpoint: Endpoint,
    profile: ServiceProfile,
    sms_type: SmsType,
    now: datetime,
) -> str | None:
    """Why one more SMS of ``sms_type`` is refused now, or None."""
    why = service_refusal(session=session, profile=profile, sms_type=sms_type)
    if why is None and profile.apply_sms_quota:
        why = _quota_refusal(session, endpoint, now)
    if why is not None:
        return why
    service = SERVICE_OF[sms_type]
    assigned = limits.sms_limits_of(session=session, profile_ids=[profile.id])
    for lim in assigned.get((profile.id, int(service)), []):
        since = _period_start(lim.period, now)
        used = count_delivered(
            session=session, endpoint_id=endpoint.id, sms_type=sms_type, since=since
        )
        if used >= lim.volume:
            unit = "day" if lim.period == PeriodId.DAY else "month"
            return f"its SMS limit {lim.id} ({lim.volume} per {unit}) is reached"
    return None


def charge(*, session: Session, endpoint: Endpoint, profile: ServiceProfile, now: datetime) -> None:
    """Count one SMS against the endpoint's SMS quota, when its profile applies one."""
    if not profile.apply_sms_quota:
        return
    quota = quotas.find(session=session, endpoint_id=endpoint.id, kind=QuotaKind.SMS)
    if quota is not None:
        quotas.charge(session=session, quota=quota, endpoint=endpoint, amount=1, now=now)
