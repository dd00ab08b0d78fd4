"""Where a service profile's endpoints break out: emnify's ``breakout_region``.

A profile names a bootstrapped region (``linkplane.regions``); its endpoints take addresses
from that region's device pool, so routing can tell the region from the address. Changing the
region of a profile is allowed only while it moves no endpoint: every endpoint of the profile
must already hold an address inside the new region's pool (otherwise 409 with the count).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, InvalidInput
from linkplane.profiles.models import ServiceProfile
from linkplane.profiles.schemas import BreakoutRegionIn
from linkplane.regions.models import Region

FIELD = "breakout_region"


@dataclass(frozen=True)
class Pool:
    """A core region and the device pool its endpoints' addresses come from."""

    region: str
    network: IPv4Network

    def holds(self, address: str | None) -> bool:
        return address is not None and IPv4Address(address) in self.network


def _regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.id)))


def resolve(session: Session, ref: BreakoutRegionIn | None) -> str | None:
    """The bootstrapped region ``ref`` names (by id or name); None clears the choice."""
    if ref is None or (ref.id is None and ref.name is None):
        return None
    regions = _regions(session)
    found = next(
        (r for r in regions if (ref.id is None or r.id == ref.id)
         and (ref.name is None or r.name == ref.name)),
        None,
    )  # fmt: skip
    if found is None:
        known = ", ".join(f"{r.name} (id {r.id})" for r in regions) or "none yet"
        wanted = f"id {ref.id}" if ref.id is not None else repr(ref.name)
        raise InvalidInput(
            f"breakout region {wanted} is not a bootstrapped region; bootstrapped: {known}",
            field=FIELD,
        )
    return found.name


def references(session: Session) -> dict[str, int]:
    """Region name -> id, to render ``breakout_region`` as ``{"id", "name"}``."""
    return {r.name: r.id for r in _regions(session)}


def pool(session: Session, region: str | None) -> Pool | None:
    if region is None:
        return None
    cidr = session.scalar(select(Region.device_cidr).where(Region.name == region))
    return None if cidr is None else Pool(region, IPv4Network(cidr))


def pool_of_profile(session: Session, profile_id: int | None) -> Pool | None:
    """The pool the endpoints of service profile ``profile_id`` take addresses from, or None
    when the profile names no region (any of the organisation's spaces then)."""
    if profile_id is None:
        return None
    region = session.scalar(
        select(ServiceProfile.breakout_region).where(ServiceProfile.id == profile_id)
    )
    return pool(session, region)


def check_change(session: Session, profile: ServiceProfile, region: str | None) -> None:
    """Refuse a new region that some endpoint of the profile holds no address in."""
    target = pool(session, region)
    if region == profile.breakout_region or target is None:
        return
    addresses = session.scalars(
        select(Endpoint.ip_address).where(Endpoint.service_profile_id == profile.id)
    )
    outside = sum(1 for a in addresses if not target.holds(a))
    if outside:
        raise Conflict(
            f"{outside} endpoint(s) of service profile {profile.id} have addresses outside "
            f"the device pool {target.network} of {region}; linkplane does not move addresses: "
            "give those endpoints another profile (or an address in that pool) first",
            field=FIELD,
        )
