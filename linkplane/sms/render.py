"""An SMS as emnify shows it: in the API and in the body of a callback."""

from __future__ import annotations

from linkplane.sms.models import AddressType, Sms, SmsStatus, SmsType
from linkplane.sms.schemas import CodeRead, SmsEndpointRead, SmsRead


def _address_type(value: int) -> CodeRead:
    try:
        return CodeRead(id=value, description=AddressType(value).description)
    except ValueError:
        return CodeRead(id=value, description="Unknown")


def render(sms: Sms, endpoint_name: str) -> SmsRead:
    status, kind = SmsStatus(sms.status), SmsType(sms.sms_type)
    return SmsRead(
        id=sms.id,
        sms_type=CodeRead(id=int(kind), description=kind.name),
        status=CodeRead(id=int(status), description=status.description),
        submit_date=sms.submit_date,
        expiry_date=sms.expiry_date,
        delivery_date=sms.delivery_date,
        final_date=sms.final_date,
        last_delivery_attempt=sms.last_delivery_attempt,
        retry_count=sms.retry_count,
        gsm_map_error=sms.gsm_map_error,
        source_address=sms.source_address,
        source_address_type=_address_type(sms.source_address_type),
        dest_address=sms.dest_address,
        payload=sms.payload,
        udh=sms.udh,
        dcs=sms.dcs,
        pid=sms.pid,
        endpoint=SmsEndpointRead(id=sms.endpoint_id, name=endpoint_name),
        sim_id=str(sms.sim_id) if sms.sim_id is not None else None,
        iccid=sms.iccid,
        msisdn=sms.msisdn,
        imsi=sms.imsi,
    )
