"""HTTP routes on one user: role assignment, role permissions, the user's events and
support tokens (emnify's user management operations beyond create/read/update/delete).

Thin: parse, call :mod:`linkplane.tenancy.roles` or the events service, render.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict

from linkplane.api.deps import (
    PageDep,
    PrincipalDep,
    ProviderAdminDep,
    SessionDep,
    SettingsDep,
    WriterDep,
)
from linkplane.api.pagination import Q_PARAM, SORT_PARAM, parse_q, parse_sort, set_page_headers
from linkplane.api.responses import no_content
from linkplane.errors import NotFound
from linkplane.events import service as events
from linkplane.events.render import render_event
from linkplane.events.schemas import EventRead
from linkplane.ids import ascii_digits
from linkplane.tenancy import roles, service
from linkplane.tenancy.principal import Role
from linkplane.tenancy.schemas import ROLE_BY_ID, ROLE_IDS, ROLE_NAMES, RoleRead

router = APIRouter(tags=["user"])
UserRef = Annotated[str, Path(min_length=1, max_length=254, description="id, username or `my`")]
RoleId = Annotated[str, Path(min_length=1, max_length=16, description="1 (admin), 3 (observer)")]


class PermissionRead(BaseModel):
    resource: str
    actions: list[str]


class RolePermissions(BaseModel):
    role: RoleRead
    permissions: list[PermissionRead]


class SupportTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: emnify sends the role id as a string: "1" administrator, "3" observer.
    role: Literal["1", "3"] = "3"


class SupportTokenCreated(BaseModel):
    support_token: str


def _role(role_id: str) -> Role:
    role = ROLE_BY_ID.get(int(role_id)) if ascii_digits(role_id) else None
    if role is None:
        allowed = ", ".join(f"{i} ({ROLE_NAMES[r]})" for r, i in ROLE_IDS.items())
        raise NotFound(f"role {role_id} not found; roles: {allowed}", field="role_id")
    return role


@router.get("/api/v1/user/{user_id}/role/permission", response_model=RolePermissions)
def role_permissions(
    user_id: UserRef, principal: PrincipalDep, session: SessionDep
) -> RolePermissions:
    """What the user's role lets them do, per resource of their organisation."""
    role, granted = roles.permissions(
        session=session, principal=principal, user_ref=principal.user_ref(user_id)
    )
    return RolePermissions(
        role=RoleRead(id=ROLE_IDS[role], name=ROLE_NAMES[role], description=ROLE_NAMES[role]),
        permissions=[PermissionRead(resource=p.resource, actions=list(p.actions)) for p in granted],
    )


@router.put("/api/v1/user/{user_id}/role/{role_id}", status_code=204, response_class=Response)
def assign_role(
    user_id: UserRef, role_id: RoleId, principal: WriterDep, session: SessionDep
) -> Response:
    """Give the user this role, replacing their current one (one role per user)."""
    roles.assign_role(
        session=session, principal=principal, user_ref=principal.user_ref(user_id),
        role=_role(role_id),
    )  # fmt: skip
    return no_content()


@router.delete("/api/v1/user/{user_id}/role/{role_id}", status_code=204, response_class=Response)
def remove_role(
    user_id: UserRef, role_id: RoleId, principal: WriterDep, session: SessionDep
) -> Response:
    """Refused (409): a user's one role can only be replaced, not removed."""
    roles.remove_role(
        session=session, principal=principal, user_ref=principal.user_ref(user_id),
        role=_role(role_id),
    )  # fmt: skip
    return no_content()


@router.get(
    "/api/v1/user/{user_id}/event", response_model=list[EventRead], response_model_exclude_none=True
)
def user_events(
    user_id: UserRef,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    response: Response,
    q: str | None = Q_PARAM,
    sort: str | None = SORT_PARAM,
) -> list[EventRead]:
    """The events about one user of the caller's organisation (created, updated, failed
    logins, MFA changes), newest first."""
    user = service.get_user(
        session=session, org_id=principal.org_id, user_ref=principal.user_ref(user_id)
    )
    rows, total = events.list_events(
        session=session,
        org_id=principal.org_id,
        filters=parse_q(q, events.EVENT_FILTERS),
        sort=parse_sort(sort, set(events.EVENT_SORT)),
        offset=page.offset,
        limit=page.per_page,
        entity=("user", user.id),
    )
    set_page_headers(response, page, total)
    org = service.get_org(session=session, org_id=principal.org_id)
    return [render_event(e, org=org, user=u) for e, u in rows]


@router.post(
    "/api/v2/user/{user_id}/support_token", status_code=201, response_model=SupportTokenCreated
)
def create_support_token(
    user_id: Annotated[str, Path(min_length=1, max_length=16)],
    principal: ProviderAdminDep,
    session: SessionDep,
    settings: SettingsDep,
    body: SupportTokenCreate | None = None,
) -> SupportTokenCreated:
    """A read-only, time-bounded, revocable token into the user's organisation (provider
    administrators only; see linkplane.tenancy.roles)."""
    role = ROLE_BY_ID[int((body or SupportTokenCreate()).role)]
    token = roles.create_support_token(
        session=session, settings=settings, principal=principal, user_ref=user_id, role=role
    )
    return SupportTokenCreated(support_token=token)
