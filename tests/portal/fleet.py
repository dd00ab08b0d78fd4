"""Seeding an organisation's fleet through the fleet services (as the API would)."""

from __future__ import annotations

from linkplane.context import AppContext
from linkplane.db import transaction


def seed_fleet(ctx: AppContext, org_id: int, count: int, *, prefix: str, serial: int) -> list[int]:
    """``count`` enabled devices named ``<prefix> 1..count``, each with an activated SIM.

    ``serial`` (1-9) keeps ICCIDs/IMSIs unique across organisations of one database.
    """
    from linkplane.addressing import service as addressing
    from linkplane.devices import service as devices
    from linkplane.devices.schemas import EndpointCreate, IdRef, SimLink, StatusIn
    from linkplane.profiles import service as profiles
    from linkplane.profiles.schemas import ServiceProfileCreate, TariffProfileCreate
    from linkplane.sims import service as sims
    from linkplane.sims.importer import SimRow
    from linkplane.sims.models import SimStatus

    bic = f"BIC-{prefix.replace(' ', '')}-{serial}"
    with transaction(ctx.sessionmaker) as session:
        sp = profiles.create_service_profile(
            session=session, org_id=org_id, data=ServiceProfileCreate(name=f"{prefix} service")
        )
        tp = profiles.create_tariff_profile(
            session=session, org_id=org_id, data=TariffProfileCreate(name=f"{prefix} tariff")
        )
        device_cidr = ctx.settings.device_cidr
        subnet = addressing.first_free_subnet(session=session, device_cidr=device_cidr)
        addressing.create_space(
            session=session, device_cidr=device_cidr, cidr=str(subnet), org_id=org_id
        )
        rows = [
            SimRow(line=i + 2, iccid=f"89{serial}{i:016d}", imsi=f"90{serial}{i:012d}",
                   msisdn=f"42{serial}{i:010d}", bic=bic)
            for i in range(count)
        ]  # fmt: skip
        sims.import_rows(session=session, org_id=org_id, rows=rows)
        registered = sims.register_batch(
            session=session, org_id=org_id, bic=bic, status=int(SimStatus.ACTIVATED)
        )
        ids = []
        for i, sim in enumerate(sorted(registered, key=lambda s: s.iccid), start=1):
            data = EndpointCreate(
                name=f"{prefix} {i}", status=StatusIn(id=0), service_profile=IdRef(id=sp.id),
                tariff_profile=IdRef(id=tp.id), sim=SimLink(id=sim.id),
            )  # fmt: skip
            ids.append(devices.create(session=session, org_id=org_id, data=data).id)
        return ids
