"""The starting fleet of the ``demo`` organisation that ``linkplane up`` creates."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.addressing import service as addressing
from linkplane.profiles import service as profiles
from linkplane.profiles.models import ServiceProfile
from linkplane.profiles.schemas import ServiceProfileCreate, TariffProfileCreate
from linkplane.settings import Settings

DEFAULT_DEVICE_CIDR = str(Settings.model_fields["device_cidr"].default)


def seed_demo_fleet(
    *, session: Session, org_id: int, device_cidr: str = DEFAULT_DEVICE_CIDR
) -> None:
    """Give the organisation a service profile (Cloud Connect allowed), a tariff profile and
    a /24 IP address space, so endpoints can be created at once. Idempotent: an organisation
    that already has a service profile is left alone."""
    exists = session.scalar(select(ServiceProfile.id).where(ServiceProfile.org_id == org_id))
    if exists is not None:
        return
    profiles.create_service_profile(
        session=session, org_id=org_id,
        data=ServiceProfileCreate(
            name="Default", description="Created by linkplane up", allow_cloud_connect=True
        ),
    )  # fmt: skip
    profiles.create_tariff_profile(
        session=session, org_id=org_id,
        data=TariffProfileCreate(name="Default", description="Created by linkplane up"),
    )  # fmt: skip
    if not addressing.list_for_org(session=session, org_id=org_id):
        cidr = addressing.first_free_subnet(session=session, device_cidr=device_cidr, prefix=24)
        addressing.create_space(
            session=session, device_cidr=device_cidr, cidr=str(cidr), org_id=org_id
        )
