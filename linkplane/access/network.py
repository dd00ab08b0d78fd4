"""Attaching a simulated device to a visited network (operator and RAT).

linkplane runs no radio network: the usage and SMS simulators attach their devices here
first, so a device is refused exactly where a real core would refuse it: endpoint disabled,
no usable SIM, a RAT its service profile does not allow, an operator its endpoint blacklists
or its tariff profile blocks (completely or on that RAT). Every refusal is an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from linkplane.blocklists import service as blocklists
from linkplane.blocklists.rats import DEFAULT_RAT_ID, rat_type
from linkplane.devices.models import Endpoint, EndpointStatus
from linkplane.errors import InvalidInput
from linkplane.events.service import record
from linkplane.operators.service import get_operator
from linkplane.profiles.models import ServiceProfile
from linkplane.sims.models import Sim, SimStatus

#: Telekom (Germany): the visited network the emulated connectivity reports.
DEFAULT_OPERATOR_ID = 1
_ATTACHABLE_SIM = (SimStatus.ACTIVATED, SimStatus.FACTORY_TEST)


@dataclass(frozen=True)
class Network:
    operator_id: int = DEFAULT_OPERATOR_ID
    rat_type_id: int = DEFAULT_RAT_ID

    def checked(self) -> Network:
        """Itself, or InvalidInput naming the unknown operator or RAT (a CLI typo)."""
        if get_operator(self.operator_id) is None:
            raise InvalidInput(
                f"unknown operator {self.operator_id} (GET /api/v1/operator)", field="operator"
            )
        if rat_type(self.rat_type_id) is None:
            raise InvalidInput(
                f"unknown RAT type {self.rat_type_id} (GET /api/v1/rat_type)", field="rat"
            )
        return self

    def describe(self) -> str:
        op, rat = get_operator(self.operator_id), rat_type(self.rat_type_id)
        name = f"{op.name} ({op.country.name})" if op else f"operator {self.operator_id}"
        return f"{name} on {rat.description if rat else self.rat_type_id}"


def attach_refusal(
    *,
    session: Session,
    endpoint: Endpoint,
    sim: Sim | None,
    profile: ServiceProfile,
    network: Network,
) -> str | None:
    """Why the device may not attach to ``network``, or None when it may."""
    if endpoint.status != EndpointStatus.ENABLED:
        return "the endpoint is disabled"
    if sim is None:
        return "the endpoint has no SIM"
    if SimStatus(sim.status) not in _ATTACHABLE_SIM:
        return f"its SIM is {SimStatus(sim.status).description}"
    rat = rat_type(network.rat_type_id)
    if rat is not None and not getattr(profile, rat.profile_flag):
        return f"its service profile does not allow {rat.description} ({rat.profile_flag})"
    return blocklists.blocked_reason(
        session=session,
        endpoint=endpoint,
        operator_id=network.operator_id,
        rat_id=network.rat_type_id,
    )


def record_refusal(
    *, session: Session, endpoint: Endpoint, network: Network, reason: str, activity: str
) -> None:
    """The event a refused attach leaves (WARN, source Network)."""
    record(
        session=session,
        org_id=endpoint.org_id,
        event_type="Network attach refused",
        description=f"endpoint {endpoint.name!r} refused on {network.describe()} "
        f"({activity}): {reason}",
        entity_type="endpoint",
        entity_id=endpoint.id,
        severity=1,
        source="network",
        actor="system",
        detail={
            "operator_id": network.operator_id,
            "rat_type_id": network.rat_type_id,
            "reason": reason,
            "activity": activity,
        },
    )
