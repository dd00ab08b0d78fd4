"""Service and tariff profile shapes as the emnify API names them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from linkplane.callbacks.schemas import CallbackRef, SecretRef
from linkplane.ids import Id
from linkplane.tariffs.schemas import ProfileVolumeRead, TariffRead
from linkplane.trafficlimits.schemas import ProfileServiceRead

SERVICE_FLAGS = (
    "allowed_3g", "allowed_4g", "allowed_nb_iot", "allowed_nb_iot_geo", "apply_sms_quota",
    "apply_data_quota", "retail", "sms_p2p_int", "sms_p2p_ext", "nipdp", "allow_cloud_connect",
)  # fmt: skip


class RefIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: Id | None = None


class BreakoutRegionIn(BaseModel):
    """emnify's untyped ``breakout_region``: linkplane reads a bootstrapped region by ``id``
    or ``name`` (``{"id": null}`` or ``null`` clears it)."""

    model_config = ConfigDict(extra="ignore")

    id: int | None = Field(None, ge=1, le=2**31 - 1)
    name: str | None = Field(None, min_length=1, max_length=32)


class BreakoutRegionRead(BaseModel):
    id: int
    name: str


class ServiceProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    #: Deprecated by emnify in favour of ``apply_data_quota``, which wins when both are given.
    apply_quota: bool | None = Field(None, exclude=True)
    prepaid: bool | None = Field(None, exclude=True)
    moc_callback: dict[str, Any] | None = Field(None, exclude=True)
    esme_interface_type: dict[str, Any] | None = Field(None, exclude=True)
    #: Where the profile's endpoints break out (and take their addresses from).
    breakout_region: BreakoutRegionIn | None = None
    dns: dict[str, Any] | None = Field(None, exclude=True)
    #: Where MO SMS of the profile's endpoints go (``/api/v1/api_callback``) and the secret
    #: that signs them (``/api/v1/api_secret``); ``{"id": null}`` removes it.
    api_callback: RefIn | None = None
    api_secret: RefIn | None = None

    @model_validator(mode="after")
    def _deprecated_apply_quota(self) -> ServiceProfileUpdate:
        if self.apply_quota is not None and "apply_data_quota" not in self.model_fields_set:
            self.apply_data_quota = self.apply_quota
            self.model_fields_set.add("apply_data_quota")  # so an update applies it
        return self


class ServiceProfileCreate(ServiceProfileUpdate):
    name: str = Field(min_length=1, max_length=128)


class ServiceProfileRead(BaseModel):
    """Rendered with ``exclude_none`` (no ``description`` key when there is none, as emnify
    leaves out every unset key)."""

    id: int
    name: str
    description: str | None = None
    #: A string in emnify's description.
    used_count: str
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
    breakout_region: BreakoutRegionRead | None = None
    #: The services endpoints of the profile may use, with their SMS limits.
    service: list[ProfileServiceRead]
    api_callback: CallbackRef | None = None
    api_secret: SecretRef | None = None


class TariffIn(BaseModel):
    # A reference may echo a read tariff (name, currency, ...): only the id counts.
    model_config = ConfigDict(extra="ignore")

    id: Id


class TariffProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = None
    #: The organisation's tariff (the only one a profile may have); default on create.
    tariff: TariffIn | None = None


class TariffProfileCreate(TariffProfileUpdate):
    name: str = Field(min_length=1, max_length=128)


class TariffProfileRead(BaseModel):
    """Rendered with ``exclude_none`` (no ``description`` or ``inclusive_volume`` key when
    there is none)."""

    id: int
    name: str
    description: str | None = None
    #: Strings in emnify's description.
    used_count: str
    organisation_id: str
    tariff: TariffRead | None = None
    inclusive_volume: ProfileVolumeRead | None = None
