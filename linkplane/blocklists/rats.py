"""Radio access technologies (RAT types): the look-up emnify serves at ``/api/v1/rat_type``.

Ids are the RAT Type values of 3GPP TS 29.274 (GTPv2), the numbering the emulated
connectivity already reports (4G is 6). Each RAT is governed by one service-profile flag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RatType:
    id: int
    description: str
    #: The service profile flag that must be true for a device to use this RAT.
    profile_flag: str


RAT_TYPES: tuple[RatType, ...] = (
    RatType(1, "3G", "allowed_3g"),
    RatType(2, "2G", "allowed_3g"),
    RatType(6, "4G", "allowed_4g"),
    RatType(8, "NB-IoT", "allowed_nb_iot"),
    RatType(9, "LTE-M", "allowed_4g"),
    RatType(10, "5G", "allowed_4g"),
)
_BY_ID = {rat.id: rat for rat in RAT_TYPES}
#: The RAT the network simulators use unless told otherwise (what connectivity reports).
DEFAULT_RAT_ID = 6


def rat_type(rat_id: int) -> RatType | None:
    return _BY_ID.get(rat_id)
