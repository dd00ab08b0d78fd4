"""Blacklist and blocklist shapes as emnify names them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from linkplane.ids import Code


class RatRead(BaseModel):
    id: int
    description: str


class OperatorRef(BaseModel):
    id: int
    name: str


class TariffProfileRef(BaseModel):
    id: int


class BlocklistRead(BaseModel):
    #: True when the operator is blocked completely (whatever the RAT).
    operator: bool
    rat_types: list[RatRead]


class BlockEntryRead(BaseModel):
    operator: OperatorRef
    tariff_profile: TariffProfileRef
    blocklist: BlocklistRead


class RatRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Code


class RatTypesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rat_types: list[RatRef] = Field(min_length=1, max_length=20)
