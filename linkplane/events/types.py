"""The event type catalogue: emnify renders ``event_type`` as ``{id, description}``.

Features record events with a type *name* (``record(event_type="Endpoint created", ...)``).
Names listed here get a stable id; any other name is shown as type 1 "Generic" (its own
description stays in the event's ``description``). Add new names at the end: ids are part of
the API (clients filter with ``q=type:<id>``) and must never be renumbered.
"""

from __future__ import annotations

from enum import IntEnum

EVENT_TYPES: tuple[str, ...] = (
    "Generic",  # 1
    "User authentication failed",
    "Application authentication failed",
    "Organisation created",
    "User created",
    "User updated",
    "User deleted",
    "Application token created",
    "Application token updated",
    "Application token deleted",
    "Endpoint created",  # 11
    "Endpoint updated",
    "Endpoint deleted",
    "SIM created",
    "SIM updated",
    "SIM activation",
    "SIM suspension",
    "Service profile created",
    "Service profile updated",
    "Service profile deleted",
    "Tariff profile created",  # 21
    "Tariff profile updated",
    "Tariff profile deleted",
    "IP address space created",
    "IP address space deleted",
    "Breakout created",
    "Breakout state changed",
    "Breakout deleted",
    "Breakout retried",
    "Region bootstrapped",
    "SIM deleted",  # 31
    "Organisation tariff changed",
    "Inclusive volume assigned",
    # SMS, callbacks, quotas, traffic limits and network access (linkplane.sms and friends)
    "SMS submitted",  # 34
    "SMS buffered",
    "SMS delivered",
    "SMS failed",
    "SMS expired",
    "SMS canceled",
    "SMS received",
    "SMS refused",
    "SMS callback delivered",
    "SMS callback failed",
    "API callback updated",  # 44
    "Quota updated",
    "Quota used up",
    "Quota threshold reached",
    "Quota expired",
    "Traffic limit warning",
    "Traffic limit reached",
    "Traffic limit extended",
    "Usage refused",
    "Network attach refused",
    "Operator blacklist updated",  # 54
    "Tariff profile blocklist updated",
    # MFA, user roles, support access and SIM migration (linkplane.mfa, tenancy)
    "MFA key created",  # 56
    "MFA key activated",
    "MFA key deleted",
    "MFA authentication failed",
    "Trusted device added",  # 60
    "Trusted device deleted",
    "Support token created",
    "SIM migrated",
    # Regions (linkplane.regions, issue 11)
    "Breakout degraded",  # 64
    # IPsec VPN breakouts (linkplane.attachments, issue 14)
    "VPN tunnel down",  # 65
    "VPN tunnel up",
)

TYPE_ID: dict[str, int] = {name: i + 1 for i, name in enumerate(EVENT_TYPES)}
#: Every type id and its description, in id order.
DESCRIPTION: dict[int, str] = {i + 1: name for i, name in enumerate(EVENT_TYPES)}
GENERIC = 1


def type_id(name: str) -> int:
    return TYPE_ID.get(name, GENERIC)


def type_names(ids: set[int]) -> set[str]:
    return {name for name, i in TYPE_ID.items() if i in ids}


class Source(IntEnum):
    """emnify event source ids; the Event row stores the lower-case name."""

    NETWORK = 0
    POLICY = 1
    API = 2


SOURCE_ID = {"network": Source.NETWORK, "policy": Source.POLICY, "api": Source.API}
SOURCE_DESCRIPTION = {Source.NETWORK: "Network", Source.POLICY: "Policy Control", Source.API: "API"}
SEVERITY_DESCRIPTION = {0: "INFO", 1: "WARN", 2: "CRITICAL"}
