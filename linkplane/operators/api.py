"""HTTP route of the operator look-up list."""

from __future__ import annotations

from fastapi import APIRouter

from linkplane.api.deps import PrincipalDep
from linkplane.operators.schemas import CountryRead, MncRead, OperatorRead, TapCodeRead
from linkplane.operators.service import Operator, list_operators

router = APIRouter(prefix="/api/v1", tags=["operators"])


def render(op: Operator) -> OperatorRead:
    """An operator as emnify shows it (also in endpoint blacklists)."""
    c = op.country
    return OperatorRead(
        id=op.id,
        name=op.name,
        country_name=c.name,
        name_and_country=f"{op.name} / {c.name}",
        country=CountryRead(
            id=c.id, name=c.name, country_code=c.country_code, mcc=c.mcc, iso_code=c.iso_code
        ),
        mnc=[MncRead(id=op.id * 10 + i, mnc=m) for i, m in enumerate(op.mnc)],
        tapcode=[TapCodeRead(id=op.id * 10 + i, tapcode=t) for i, t in enumerate(op.tapcode)],
    )


@router.get("/operator")
def get_operators(_principal: PrincipalDep) -> list[OperatorRead]:
    """All operators (authenticated, the same for every organisation)."""
    return [render(op) for op in list_operators()]
