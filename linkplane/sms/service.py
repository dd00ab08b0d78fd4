"""Mobile-terminated SMS: submit, list, read, cancel; expiry of SMS that were never
delivered. Delivery itself happens when the (simulated) device receives: ``sms.device``.

An SMS the device may not receive now (SMS quota used up, SMS limit reached) is *held*:
accepted, BUFFERED, and an event says why; it is delivered once the device may receive it
again, or expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkplane.db import utcnow
from linkplane.devices import service as devices
from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.ids import ascii_digits
from linkplane.profiles.models import ServiceProfile
from linkplane.sims.models import Sim
from linkplane.sms import admission
from linkplane.sms.models import (
    CANCELLABLE,
    SMS_TRANSITIONS,
    AddressType,
    Sms,
    SmsStatus,
    SmsType,
)
from linkplane.sms.schemas import SmsIn
from linkplane.tenancy.principal import Principal

#: What the SMS shows as sender when the request names none.
DEFAULT_SOURCE = "linkplane"
MAX_ALPHANUMERIC = 11
_FINAL = frozenset({SmsStatus.DELIVERED, SmsStatus.FAILED, SmsStatus.EXPIRED, SmsStatus.CANCELED})
_WARN = frozenset({SmsStatus.BUFFERED, SmsStatus.FAILED, SmsStatus.EXPIRED})


def transition(
    session: Session,
    sms: Sms,
    endpoint: Endpoint,
    status: SmsStatus,
    now: datetime,
    why: str | None = None,
    principal: Principal | None = None,
) -> None:
    """Move an SMS along its lifecycle (``SMS_TRANSITIONS``) and record the event."""
    current = SmsStatus(sms.status)
    if status not in SMS_TRANSITIONS.get(current, frozenset()):
        raise Conflict(
            f"SMS {sms.id} is {current.description}: it cannot become {status.description}",
            field="status",
        )
    sms.status = int(status)
    if status in _FINAL:
        sms.final_date = now
    if status == SmsStatus.IN_PROGRESS:
        return  # transient: the attempt's outcome is the event
    text = f"SMS {sms.id} to endpoint {endpoint.name!r} {status.description.lower()}"
    record(
        session=session,
        org_id=endpoint.org_id,
        event_type=f"SMS {status.description.lower()}",
        description=text + (f": {why}" if why else ""),
        entity_type="endpoint",
        entity_id=endpoint.id,
        severity=1 if status in _WARN else 0,
        source="api" if principal else "network",
        principal=principal,
        detail={"sms_id": sms.id, "reason": why},
    )


def _source(data: SmsIn) -> tuple[str, AddressType]:
    address = data.source_address or DEFAULT_SOURCE
    if data.source_address_type is not None:
        try:
            kind = AddressType(data.source_address_type.id)
        except ValueError:
            raise InvalidInput(
                "source_address_type.id must be 145 (International), 161 "
                "(National) or 208 (Alphanumeric)",
                field="source_address_type.id",
            ) from None
    else:
        kind = (
            AddressType.INTERNATIONAL
            if ascii_digits(address.lstrip("+"))
            else AddressType.ALPHANUMERIC
        )
    if kind == AddressType.ALPHANUMERIC and len(address) > MAX_ALPHANUMERIC:
        raise InvalidInput(
            f"an alphanumeric sender has at most {MAX_ALPHANUMERIC} characters",
            field="source_address",
        )
    if kind != AddressType.ALPHANUMERIC and not ascii_digits(address.lstrip("+")):
        raise InvalidInput(
            "a numeric sender (type 145 or 161) has digits 0-9 only", field="source_address"
        )
    return address.lstrip("+"), kind


def _expiry(data: SmsIn, now: datetime, validity: timedelta) -> datetime:
    if data.expiry_date is None:
        return now + validity
    expiry = data.expiry_date if data.expiry_date.tzinfo else data.expiry_date.replace(tzinfo=UTC)
    if expiry <= now:
        raise InvalidInput("expiry_date must be in the future", field="expiry_date")
    return expiry


def load_device(
    session: Session, org_id: int, endpoint_id: int, *, lock: bool = False
) -> tuple[Endpoint, Sim | None, ServiceProfile]:
    """The organisation's endpoint (404), its SIM if any and its service profile. ``lock``
    holds the endpoint row (PostgreSQL) while its SMS quota and limits are charged, so two
    simulated deliveries at once cannot both spend the last SMS."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    if lock:
        session.refresh(endpoint, with_for_update=True)
    sim = session.get(Sim, endpoint.sim_id) if endpoint.sim_id else None
    profile = session.get(ServiceProfile, endpoint.service_profile_id)
    assert profile is not None  # a foreign key
    return endpoint, sim, profile


def _new_mt(endpoint: Endpoint, sim: Sim, data: SmsIn, when: datetime,
            validity: timedelta) -> Sms:  # fmt: skip
    source, kind = _source(data)
    return Sms(
        org_id=endpoint.org_id, endpoint_id=endpoint.id, sms_type=int(SmsType.MT),
        status=int(SmsStatus.PENDING), payload=data.payload, source_address=source,
        source_address_type=int(kind), dest_address=data.dest_address, udh=data.udh,
        dcs=data.dcs or 0, pid=0, sim_id=sim.id, iccid=sim.iccid, imsi=sim.imsi,
        msisdn=sim.msisdn, submit_date=when, expiry_date=_expiry(data, when, validity),
        retry_count=0,
    )  # fmt: skip


def submit(
    *, session: Session, org_id: int, endpoint_id: int, data: SmsIn, validity: timedelta,
    principal: Principal | None = None, now: datetime | None = None,
) -> Sms:  # fmt: skip
    """Accept an MT SMS for the endpoint: PENDING, or BUFFERED (held) with an event."""
    when = now or utcnow()
    endpoint, sim, profile = load_device(session, org_id, endpoint_id)
    if sim is None:
        raise InvalidInput(f"endpoint {endpoint_id} has no SIM: an SMS needs its MSISDN",
                           field="endpoint_id")  # fmt: skip
    why = admission.service_refusal(session=session, profile=profile, sms_type=SmsType.MT)
    if why is not None:
        raise InvalidInput(f"endpoint {endpoint_id} cannot receive SMS: {why}", field="endpoint_id")
    sms = _new_mt(endpoint, sim, data, when, validity)
    session.add(sms)
    session.flush()
    record(
        session=session, org_id=org_id, event_type="SMS submitted",
        description=f"SMS {sms.id} to endpoint {endpoint.name!r} submitted",
        principal=principal, entity_type="endpoint", entity_id=endpoint.id,
        detail={"sms_id": sms.id},
    )  # fmt: skip
    held = admission.refusal(session=session, endpoint=endpoint, profile=profile,
                             sms_type=SmsType.MT, now=when)  # fmt: skip
    if held is not None:
        sms.gsm_map_error = held
        transition(session, sms, endpoint, SmsStatus.BUFFERED, when, f"held: {held}")
    return sms


def expire_due(*, session: Session, endpoint: Endpoint, now: datetime) -> None:
    """Waiting MT SMS of the endpoint whose expiry passed become EXPIRED (with events)."""
    stmt = select(Sms).where(
        Sms.endpoint_id == endpoint.id,
        Sms.sms_type == int(SmsType.MT),
        Sms.status.in_([int(s) for s in CANCELLABLE]),
        Sms.expiry_date <= now,
    )
    for sms in session.scalars(stmt.order_by(Sms.id)):
        transition(session, sms, endpoint, SmsStatus.EXPIRED, now, "not delivered in time")


def list_for_endpoint(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    offset: int,
    limit: int,
    now: datetime | None = None,
) -> tuple[list[Sms], int, str]:
    """The endpoint's SMS (sent and received), newest first; total; the endpoint's name."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    expire_due(session=session, endpoint=endpoint, now=now or utcnow())
    base = select(Sms).where(Sms.endpoint_id == endpoint_id)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = session.scalars(base.order_by(Sms.id.desc()).offset(offset).limit(limit))
    return list(rows), total, endpoint.name


def get(
    *, session: Session, org_id: int, endpoint_id: int, sms_id: int, now: datetime | None = None
) -> tuple[Sms, str]:
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    sms = session.get(Sms, sms_id)
    if sms is None or sms.endpoint_id != endpoint.id:
        raise NotFound(f"SMS {sms_id} of endpoint {endpoint_id} not found", field="sms_id")
    expire_due(session=session, endpoint=endpoint, now=now or utcnow())
    return sms, endpoint.name


def cancel(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    sms_id: int,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> tuple[Sms, str]:
    """Cancel an MT SMS that is still waiting (409 once it is delivered or final)."""
    when = now or utcnow()
    sms, name = get(
        session=session, org_id=org_id, endpoint_id=endpoint_id, sms_id=sms_id, now=when
    )
    status = SmsStatus(sms.status)
    if sms.sms_type != SmsType.MT or status not in CANCELLABLE:
        raise Conflict(
            f"SMS {sms_id} is {status.description}: only a pending or buffered "
            "SMS to the device can be canceled",
            field="sms_id",
        )
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    transition(session, sms, endpoint, SmsStatus.CANCELED, when, principal=principal)
    return sms, name


def waiting(*, session: Session, endpoint_id: int) -> Sequence[Sms]:
    """MT SMS waiting for the device, oldest first."""
    stmt = select(Sms).where(
        Sms.endpoint_id == endpoint_id,
        Sms.sms_type == int(SmsType.MT),
        Sms.status.in_([int(s) for s in CANCELLABLE]),
    )
    return list(session.scalars(stmt.order_by(Sms.id)))
