"""IP address space shapes as the emnify API names them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code


class IpAddressSpaceRead(BaseModel):
    id: int
    ip_address_space: str
    ip_address_version: int
    used_count: int
    available_count: int


class IpAddressSpaceAvailable(BaseModel):
    id: int
    ip_address_space: str
    ip_address_version: int


class IpAddressSpaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown fields are refused, naming them

    ip_address_space: str = Field(max_length=43, examples=["100.96.0.0/24"])
    ip_address_version: Code = 4
