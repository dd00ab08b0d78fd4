"""Emulated connectivity: linkplane runs no radio network, so the answer is derived,
deterministically, from stored state (endpoint status, SIM link and SIM status).

ONLINE: enabled endpoint with an activated SIM; ATTACHED: enabled with a SIM in factory test;
BLOCKED: the SIM is suspended, or the device may move no data now (its data quota or monthly
data limit is used up, or its profile lacks Data: emnify's "exceeded traffic limits");
OFFLINE: anything else (no SIM, issued SIM, disabled endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from linkplane.devices.models import Endpoint, EndpointStatus
from linkplane.sims.models import Sim, SimStatus


class ConnectivityStatus(IntEnum):
    ATTACHED = 0
    ONLINE = 1
    OFFLINE = 2
    BLOCKED = 3


@dataclass(frozen=True)
class Connectivity:
    status: ConnectivityStatus
    location: dict[str, Any] | None
    pdp_context: dict[str, Any] | None
    services: list[str]


#: The emulated visited network every attached device reports.
_LOCATION = {
    "operator": {"id": 1, "name": "Telekom", "country": {"id": 74, "name": "Germany"}},
    "country": {"id": 74, "name": "Germany"},
    "sgsn_ip_address": "192.0.2.1",
}


def _status(endpoint: Endpoint, sim: Sim | None) -> ConnectivityStatus:
    if sim is None or endpoint.status != EndpointStatus.ENABLED:
        return ConnectivityStatus.OFFLINE
    return {
        SimStatus.ACTIVATED: ConnectivityStatus.ONLINE,
        SimStatus.FACTORY_TEST: ConnectivityStatus.ATTACHED,
        SimStatus.SUSPENDED: ConnectivityStatus.BLOCKED,
    }.get(SimStatus(sim.status), ConnectivityStatus.OFFLINE)


def connectivity(endpoint: Endpoint, sim: Sim | None, data_blocked: bool = False) -> Connectivity:
    status = _status(endpoint, sim)
    if status is ConnectivityStatus.ONLINE and data_blocked:
        return Connectivity(ConnectivityStatus.BLOCKED, dict(_LOCATION), None, [])
    if status is ConnectivityStatus.ONLINE:
        pdp = {
            "ue_ip_address": endpoint.ip_address,
            "apn": "em",
            "rat_type": {"id": 6, "description": "4G"},
            "created": endpoint.last_updated.isoformat(),
        }
        return Connectivity(status, dict(_LOCATION), pdp, ["GPRS", "SMS"])
    if status is ConnectivityStatus.ATTACHED:
        return Connectivity(status, dict(_LOCATION), None, ["SMS"])
    return Connectivity(status, None, None, [])
