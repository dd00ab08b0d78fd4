"""A simulated device's side of SMS (linkplane has no radio network, as for data usage):
it attaches to a visited network, receives and acknowledges the SMS waiting for it, and
sends SMS, which reach the service profile's API callback. ``linkplane sms simulate``
drives it.

Refusals are results, not exceptions: their events must be committed with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.access.network import Network, attach_refusal, record_refusal
from linkplane.callbacks import delivery as callbacks
from linkplane.db import utcnow
from linkplane.devices.models import Endpoint
from linkplane.errors import InvalidInput
from linkplane.events.service import record
from linkplane.profiles.models import ServiceProfile
from linkplane.sims.models import Sim
from linkplane.sms import admission
from linkplane.sms import service as store
from linkplane.sms.models import AddressType, Sms, SmsStatus, SmsType
from linkplane.sms.render import render
from linkplane.sms.schemas import MAX_PAYLOAD

NO_REPORT = "no delivery report from the device"


@dataclass
class Reception:
    refused: str | None = None
    delivered: list[Sms] = field(default_factory=list)
    held: list[tuple[Sms, str]] = field(default_factory=list)
    unacknowledged: list[Sms] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    sms: Sms | None
    refused: str | None = None
    callback_queued: bool = False


def _attempt(sms: Sms, now: datetime) -> None:
    if sms.last_delivery_attempt is not None:
        sms.retry_count += 1
    sms.last_delivery_attempt = now


def receive(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    network: Network,
    acknowledge: bool = True,
    now: datetime | None = None,
) -> Reception:
    """The device attaches and takes the SMS waiting for it, oldest first: delivered (and
    counted against its SMS quota), held while it may not receive (quota, limit), or left
    BUFFERED when it does not acknowledge."""
    when = now or utcnow()
    endpoint, sim, profile = store.load_device(session, org_id, endpoint_id, lock=True)
    store.expire_due(session=session, endpoint=endpoint, now=when)
    pending = store.waiting(session=session, endpoint_id=endpoint.id)
    why = attach_refusal(
        session=session, endpoint=endpoint, sim=sim, profile=profile, network=network
    )
    if why is not None:
        record_refusal(
            session=session, endpoint=endpoint, network=network, reason=why, activity="receive SMS"
        )
        for sms in pending:
            _attempt(sms, when)
            sms.gsm_map_error = f"absent subscriber: {why}"
            store.transition(session, sms, endpoint, SmsStatus.BUFFERED, when, why)
        return Reception(refused=why)
    result = Reception()
    for sms in pending:
        _deliver(session, sms, endpoint, profile, acknowledge, when, result)
    return result


def _deliver(
    session: Session,
    sms: Sms,
    endpoint: Endpoint,
    profile: ServiceProfile,
    acknowledge: bool,
    now: datetime,
    result: Reception,
) -> None:
    _attempt(sms, now)
    held = admission.refusal(
        session=session, endpoint=endpoint, profile=profile, sms_type=SmsType.MT, now=now
    )
    if held is not None:
        sms.gsm_map_error = held
        store.transition(session, sms, endpoint, SmsStatus.BUFFERED, now, f"held: {held}")
        result.held.append((sms, held))
        return
    store.transition(session, sms, endpoint, SmsStatus.IN_PROGRESS, now)
    if not acknowledge:
        sms.gsm_map_error = NO_REPORT
        store.transition(session, sms, endpoint, SmsStatus.BUFFERED, now, NO_REPORT)
        result.unacknowledged.append(sms)
        return
    sms.delivery_date, sms.gsm_map_error = now, None
    store.transition(session, sms, endpoint, SmsStatus.DELIVERED, now)
    admission.charge(session=session, endpoint=endpoint, profile=profile, now=now)
    result.delivered.append(sms)


def _reply_address(session: Session, endpoint_id: int) -> str:
    """Where a device's SMS goes by default: the sender of the last SMS it was sent."""
    stmt = select(Sms).where(Sms.endpoint_id == endpoint_id, Sms.sms_type == int(SmsType.MT))
    last = session.scalars(stmt.order_by(Sms.id.desc()).limit(1)).first()
    if last is None:
        return store.DEFAULT_SOURCE
    return last.dest_address or last.source_address


def _mo_refusal(
    session: Session, endpoint: Endpoint, sim: Sim | None, profile: ServiceProfile,
    network: Network, now: datetime,
) -> str | None:  # fmt: skip
    """Why the device may not send now (attach, service, quota, limit), with its event."""
    why = attach_refusal(session=session, endpoint=endpoint, sim=sim, profile=profile,
                         network=network)  # fmt: skip
    if why is not None:
        record_refusal(session=session, endpoint=endpoint, network=network, reason=why,
                       activity="send SMS")  # fmt: skip
        return why
    why = admission.refusal(session=session, endpoint=endpoint, profile=profile,
                            sms_type=SmsType.MO, now=now)  # fmt: skip
    if why is not None:
        record(session=session, org_id=endpoint.org_id, event_type="SMS refused",
               description=f"SMS from endpoint {endpoint.name!r} refused: {why}",
               entity_type="endpoint", entity_id=endpoint.id, severity=1, source="network",
               actor="system", detail={"reason": why})  # fmt: skip
    return why


def _mo(endpoint: Endpoint, sim: Sim, payload: str, dest: str, now: datetime) -> Sms:
    return Sms(
        org_id=endpoint.org_id, endpoint_id=endpoint.id, sms_type=int(SmsType.MO),
        status=int(SmsStatus.DELIVERED), payload=payload, source_address=sim.msisdn,
        source_address_type=int(AddressType.INTERNATIONAL), dest_address=dest, dcs=0, pid=0,
        sim_id=sim.id, iccid=sim.iccid, imsi=sim.imsi, msisdn=sim.msisdn, submit_date=now,
        expiry_date=now, delivery_date=now, final_date=now, retry_count=0,
    )  # fmt: skip


def send(
    *, session: Session, org_id: int, endpoint_id: int, payload: str, network: Network,
    dest_address: str | None = None, now: datetime | None = None,
) -> Sent:  # fmt: skip
    """The device sends an SMS (MO): stored as DELIVERED (to linkplane), counted against its
    SMS quota, and queued for the profile's API callback when it has one."""
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise InvalidInput(f"an SMS has 1 to {MAX_PAYLOAD} characters", field="payload")
    when = now or utcnow()
    endpoint, sim, profile = store.load_device(session, org_id, endpoint_id, lock=True)
    why = _mo_refusal(session, endpoint, sim, profile, network, when)
    if why is not None:
        return Sent(None, why)
    assert sim is not None  # attach_refusal refuses a device without SIM
    sms = _mo(endpoint, sim, payload, dest_address or _reply_address(session, endpoint.id), when)
    session.add(sms)
    session.flush()
    admission.charge(session=session, endpoint=endpoint, profile=profile, now=when)
    body = render(sms, endpoint.name).model_dump_json(exclude_none=True).encode()
    queued = callbacks.enqueue(session=session, endpoint=endpoint, sms_id=sms.id, body=body,
                               now=when)  # fmt: skip
    record(
        session=session, org_id=org_id, event_type="SMS received",
        description=f"SMS {sms.id} from endpoint {endpoint.name!r} received"
        + ("; queued for the API callback" if queued else ""),
        entity_type="endpoint", entity_id=endpoint.id, source="network", actor="system",
        detail={"sms_id": sms.id, "callback_delivery_id": queued.id if queued else None},
    )  # fmt: skip
    return Sent(sms, None, queued is not None)
