"""HTTP routes of endpoint data/SMS quotas and of a service profile's quota reset (thin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from linkplane.api.deps import PrincipalDep, SessionDep, WriterDep
from linkplane.api.params import IdPath
from linkplane.api.responses import no_content
from linkplane.errors import NotFound
from linkplane.quotas import service
from linkplane.quotas.models import UNIT, EndpointQuota, QuotaKind, QuotaStatus
from linkplane.quotas.schemas import CodeRead, QuotaIn, QuotaRead

router = APIRouter(prefix="/api/v1", tags=["quotas"])

QuotaTypePath = Annotated[str, Path(max_length=8, description="`data` or `sms`")]


def render(quota: EndpointQuota) -> QuotaRead:
    unit = UNIT[QuotaKind(quota.kind)]
    status = QuotaStatus(quota.status)
    pct = quota.threshold_percentage
    return QuotaRead(
        status=CodeRead(id=str(int(status)), description=status.name),
        volume=quota.remaining / unit,
        expiry_date=quota.expiry_date,
        action_on_exhaustion=CodeRead(id="1", description="Block"),
        auto_refill=int(quota.auto_refill),
        last_volume_added=quota.last_volume_added / unit,
        last_status_change_date=quota.last_status_change_date,
        threshold_percentage=pct,
        threshold_volume=None if pct is None else pct / 100 * quota.last_volume_added / unit,
    )


def _routes(kind: QuotaKind) -> None:
    path = f"/endpoint/{{endpoint_id}}/quota/{kind.value}"

    @router.get(path, response_model_exclude_none=True, name=f"get_{kind.value}_quota")
    def get_quota(endpoint_id: IdPath, session: SessionDep, principal: PrincipalDep) -> QuotaRead:
        return render(
            service.get(
                session=session, org_id=principal.org_id, endpoint_id=endpoint_id, kind=kind
            )
        )

    @router.post(
        path, status_code=201, response_model_exclude_none=True, name=f"set_{kind.value}_quota"
    )
    def set_quota(
        endpoint_id: IdPath, body: QuotaIn, session: SessionDep, principal: WriterDep
    ) -> QuotaRead:
        return render(
            service.set_quota(
                session=session,
                org_id=principal.org_id,
                endpoint_id=endpoint_id,
                kind=kind,
                data=body,
                principal=principal,
            )
        )

    @router.delete(path, status_code=204, name=f"delete_{kind.value}_quota")
    def delete_quota(endpoint_id: IdPath, session: SessionDep, principal: WriterDep) -> Response:
        service.delete_quota(
            session=session,
            org_id=principal.org_id,
            endpoint_id=endpoint_id,
            kind=kind,
            principal=principal,
        )
        return no_content()


for _kind in QuotaKind:
    _routes(_kind)


@router.delete("/service_profile/{profile_id}/quota/{quota_type}", status_code=204)
def delete_profile_quotas(
    profile_id: IdPath, quota_type: QuotaTypePath, session: SessionDep, principal: WriterDep
) -> Response:
    """Delete that quota of every endpoint of the profile (mind ``apply_*_quota``)."""
    try:
        kind = QuotaKind(quota_type)
    except ValueError:
        raise NotFound(
            f"quota type {quota_type!r} not found: use data or sms", field="quota_type"
        ) from None
    service.delete_for_profile(
        session=session,
        org_id=principal.org_id,
        profile_id=profile_id,
        kind=kind,
        principal=principal,
    )
    return no_content()
