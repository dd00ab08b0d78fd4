"""Service and tariff profile shapes as the emnify API names them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from linkplane.callbacks.schemas import CallbackRef, SecretRef
from linkplane.trafficlimits.schemas import ProfileServiceRead

SERVICE_FLAGS = (
    "allowed_3g", "allowed_4g", "allowed_nb_iot", "allowed_nb_iot_geo", "apply_sms_quota",
    "apply_data_quota", "retail", "sms_p2p_int", "sms_p2p_ext", "nipdp", "allow_cloud_connect",
)  # fmt: skip


class RefIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | None = Field(None, ge=1, le=2**31 - 1)


class ServiceProfileUpdate(BaseModel):
    # emnify clients send fields linkplane does not model (moc_callback, dns, ...): ignored.
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = None
    allowed_3g: bool | None = None
    allowed_4g: bool | None = None
    allowed_nb_iot: bool | None = None
    allowed_nb_iot_geo: bool | None = None
    apply_sms_quota: bool | None = None
    apply_data_quota: bool | None = None
    retail: bool | None = None
    sms_p2p_int: bool | None = None
    sms_p2p_ext: bool | None = None
    nipdp: bool | None = None
    #: linkplane extension: endpoints of this profile may reach the organisation's
    #: Cloud Connect breakouts. Off by default.
    allow_cloud_connect: bool | None = None
    #: Where MO SMS of the profile's endpoints go (``/api/v1/api_callback``) and the secret
    #: that signs them (``/api/v1/api_secret``); ``{"id": null}`` removes it.
    api_callback: RefIn | None = None
    api_secret: RefIn | None = None


class ServiceProfileCreate(ServiceProfileUpdate):
    name: str = Field(min_length=1, max_length=128)


class ServiceProfileRead(BaseModel):
    id: int
    name: str
    #: Left out when unset (these routes leave out every unset key, as emnify does).
    description: str | None = None
    used_count: int
    allowed_3g: bool
    allowed_4g: bool
    allowed_nb_iot: bool
    allowed_nb_iot_geo: bool
    apply_sms_quota: bool
    apply_data_quota: bool
    retail: bool
    sms_p2p_int: bool
    sms_p2p_ext: bool
    nipdp: bool
    allow_cloud_connect: bool
    #: The services endpoints of the profile may use, with their SMS limits.
    service: list[ProfileServiceRead]
    api_callback: CallbackRef | None = None
    api_secret: SecretRef | None = None


class TariffProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = None
    #: Accepted for compatibility; linkplane does no billing, so the tariff is not stored.
    tariff: dict[str, Any] | None = None


class TariffProfileCreate(TariffProfileUpdate):
    name: str = Field(min_length=1, max_length=128)


class TariffProfileRead(BaseModel):
    id: int
    name: str
    description: str | None
    used_count: int
