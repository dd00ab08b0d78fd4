"""SMS shapes as emnify names them."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from linkplane.ids import Code

#: One SMS; longer texts are split by the sender into parts carrying a ``udh``.
MAX_PAYLOAD = 160
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})*$")


class AddressTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Code
    description: str | None = None


class SmsIn(BaseModel):
    """``POST /api/v1/endpoint/{id}/sms``: a mobile-terminated SMS."""

    model_config = ConfigDict(extra="forbid")

    payload: str = Field(min_length=1, max_length=MAX_PAYLOAD)
    source_address: str | None = Field(None, min_length=1, max_length=20)
    source_address_type: AddressTypeIn | None = None
    dest_address: str | None = Field(None, min_length=1, max_length=20)
    udh: str | None = Field(None, max_length=32)
    dcs: int | None = Field(None, ge=0, le=255)
    expiry_date: datetime | None = None

    @field_validator("udh")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX.match(value):
            raise ValueError("udh must be hexadecimal octets, e.g. 050003CC0201")
        return value or None


class CodeRead(BaseModel):
    id: int
    description: str


class SmsEndpointRead(BaseModel):
    id: int
    name: str


class SmsRead(BaseModel):
    """An SMS as ``GET /endpoint/{id}/sms`` lists it; unset dates and ids are left out."""

    id: int
    sms_type: CodeRead
    status: CodeRead
    submit_date: datetime
    expiry_date: datetime
    delivery_date: datetime | None = None
    final_date: datetime | None = None
    last_delivery_attempt: datetime | None = None
    retry_count: int
    gsm_map_error: str | None = None
    source_address: str
    source_address_type: CodeRead
    dest_address: str | None = None
    payload: str
    udh: str | None = None
    dcs: int
    pid: int
    endpoint: SmsEndpointRead
    sim_id: str | None = None
    iccid: str | None = None
    msisdn: str | None = None
    imsi: str | None = None
