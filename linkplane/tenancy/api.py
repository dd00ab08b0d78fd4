"""HTTP routes of tenancy: authentication, organisations, users, application tokens.

Thin: parse, call :mod:`linkplane.tenancy.service`, render. Paths, status codes and field
names follow emnify's OpenAPI; deviations are recorded in docs/api-compat.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from linkplane.api.deps import (
    FactoryDep,
    PageDep,
    PrincipalDep,
    ProviderAdminDep,
    SessionDep,
    SettingsDep,
    WriterDep,
)
from linkplane.api.errors import MALFORMED_STATUS
from linkplane.api.pagination import (
    Q_PARAM,
    SORT_PARAM,
    parse_q,
    parse_sort,
    set_page_headers,
)
from linkplane.api.responses import no_content, set_location
from linkplane.errors import BadRequest, InvalidInput, NotFound, Unauthorized
from linkplane.mfa import service as mfa
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.models import ApplicationToken, Organisation, TokenStatus, User, UserStatus
from linkplane.tenancy.principal import Principal, Role
from linkplane.tenancy.schemas import (
    ROLE_BY_ID,
    ROLE_IDS,
    ROLE_NAMES,
    TOKEN_STATUS_NAMES,
    USER_STATUS_NAMES,
    ApplicationTokenCreate,
    ApplicationTokenCreated,
    ApplicationTokenRead,
    ApplicationTokenUpdate,
    AuthenticateRequest,
    AuthenticateResponse,
    CreatorRead,
    IdDescription,
    IdName,
    IdRef,
    OrganisationCreate,
    OrganisationRead,
    RoleRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from linkplane.tenancy.throttle import limiter_on

router = APIRouter(prefix="/api/v1")
UserRef = Annotated[str, Path(min_length=1, max_length=254, description="id, username or `my`")]
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1)]
OrgId = Annotated[int, Path(ge=1, le=2**31 - 1)]


# --- authentication ------------------------------------------------------------------------


@router.post(
    "/authenticate",
    response_model=AuthenticateResponse,
    response_model_exclude_none=True,
    tags=["authentication"],
    openapi_extra={MALFORMED_STATUS: 400},
    responses={400: {"description": "Malformed body: wrong types, invalid JSON or no method"}},
)
def authenticate(
    body: AuthenticateRequest,
    request: Request,
    session: SessionDep,
    factory: FactoryDep,
    settings: SettingsDep,
) -> service.Tokens | service.MfaPending:
    """Exchange an application token, user credentials or a refresh token for an auth_token;
    a user with MFA gets an ``mfa_token`` first and sends it back with the ``code``."""
    source = request.client.host if request.client else None
    limiter_on(request.app.state, settings.auth_attempts_per_minute).take(source)
    if body.mfa_token or body.code:
        return _second_step(body, factory, settings)
    if body.application_token:
        return service.authenticate_application_token(
            session=session, settings=settings, token=body.application_token, client_ip=source
        )
    if body.refresh_token:
        return service.authenticate_refresh_token(
            session=session, settings=settings, token=body.refresh_token
        )
    if body.username and body.password:
        return service.authenticate_password(
            factory=factory, settings=settings, username=body.username, password=body.password,
            source=source,
            second_factor=mfa.second_factor(settings=settings, fingerprint=body.fingerprint),
        )  # fmt: skip
    if body.username or body.password:
        missing = "password" if body.username else "username"
        raise BadRequest(f"{missing} is required with user credentials", field=missing)
    raise BadRequest(
        "send application_token, username and password, or refresh_token",
        field="application_token",
    )


def _second_step(
    body: AuthenticateRequest, factory: sessionmaker[Session], settings: Settings
) -> service.Tokens:
    if not body.mfa_token or not body.code:
        missing = "code" if body.mfa_token else "mfa_token"
        raise InvalidInput(f"{missing} is required for the MFA step", field=missing)
    device = None
    if body.trusted_device is not None:
        if not body.trusted_device.fingerprint:
            raise InvalidInput(
                "trusted_device.fingerprint is required to trust a device",
                field="trusted_device.fingerprint",
            )
        device = mfa.DeviceInfo(
            fingerprint=body.trusted_device.fingerprint,
            name=body.trusted_device.name,
            operating_system=body.trusted_device.operating_system,
            browser=body.trusted_device.browser,
        )
    return mfa.complete(
        factory=factory, settings=settings, mfa_token=body.mfa_token, code=body.code,
        device=device,
    )  # fmt: skip


# --- organisations -------------------------------------------------------------------------


def _org_read(org: Organisation) -> OrganisationRead:
    return OrganisationRead(
        id=org.id, name=org.name, created=org.created_at, provider=org.is_provider
    )


@router.get("/organisation/my", response_model=OrganisationRead, tags=["organisation"])
def my_organisation(principal: PrincipalDep, session: SessionDep) -> OrganisationRead:
    return _org_read(service.get_org(session=session, org_id=principal.org_id))


#: emnify's organisation status lookup. linkplane has no way to disable an organisation, so
#: every organisation is Enabled and that is the only status offered.
ORGANISATION_STATUSES = (IdDescription(id=0, description="Enabled"),)


@router.get("/organisation/status", response_model=list[IdDescription], tags=["organisation"])
def organisation_statuses(_principal: PrincipalDep) -> list[IdDescription]:
    """Declared before ``/organisation/{org_id}``, which would otherwise capture it."""
    return list(ORGANISATION_STATUSES)


@router.get("/organisation", response_model=list[OrganisationRead], tags=["organisation"])
def list_organisations(
    _admin: ProviderAdminDep, session: SessionDep, page: PageDep, response: Response
) -> list[OrganisationRead]:
    """All organisations (provider administrators only)."""
    orgs, total = service.list_orgs(session=session, offset=page.offset, limit=page.per_page)
    set_page_headers(response, page, total)
    return [_org_read(o) for o in orgs]


@router.post(
    "/organisation", status_code=201, response_model=OrganisationRead, tags=["organisation"]
)
def create_organisation(
    body: OrganisationCreate,
    _admin: ProviderAdminDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> OrganisationRead:
    """A new organisation, optionally with its first administrator (provider admins only)."""
    if body.admin is None:
        org = service.create_org(session=session, name=body.name)
    else:
        org, _ = service.create_org_with_admin(
            session=session,
            name=body.name,
            admin_email=body.admin.username,
            admin_password=body.admin.password,
            admin_name=body.admin.name,
        )
    set_location(response, request, f"/api/v1/organisation/{org.id}")
    return _org_read(org)


@router.get("/organisation/{org_id}", response_model=OrganisationRead, tags=["organisation"])
def get_organisation(
    org_id: OrgId, _admin: ProviderAdminDep, session: SessionDep
) -> OrganisationRead:
    return _org_read(service.get_org(session=session, org_id=org_id))


# --- users ---------------------------------------------------------------------------------


def _role_read(role: Role) -> RoleRead:
    return RoleRead(id=ROLE_IDS[role], name=ROLE_NAMES[role], description=ROLE_NAMES[role])


def _user_read(user: User, org: Organisation) -> UserRead:
    status = UserStatus(user.status)
    return UserRead(
        id=user.id,
        username=user.username,
        name=user.name,
        created=user.created_at,
        status=IdDescription(id=status.value, description=USER_STATUS_NAMES[status]),
        organisation=IdName(id=org.id, name=org.name),
        roles=[_role_read(Role(user.role))],
    )


def _role_from(refs: list[IdRef] | None, field: str) -> Role | None:
    if not refs:
        return None
    role = ROLE_BY_ID.get(refs[0].id)
    if role is None:
        allowed = ", ".join(f"{i} ({ROLE_NAMES[r]})" for r, i in ROLE_IDS.items())
        raise InvalidInput(f"unknown role id {refs[0].id}; allowed: {allowed}", field=field)
    return role


def _check_own_org(ref: IdRef | None, principal: Principal) -> None:
    # No child organisations in linkplane: only one's own organisation may be named.
    if ref is not None and ref.id != principal.org_id:
        raise NotFound(f"organisation {ref.id} not found", field="organisation.id")


@router.get("/user/role", response_model=list[RoleRead], tags=["user"])
def list_roles(_principal: PrincipalDep) -> list[RoleRead]:
    return [_role_read(r) for r in Role]


@router.get("/user/status", response_model=list[IdDescription], tags=["user"])
def list_user_statuses(_principal: PrincipalDep) -> list[IdDescription]:
    return [IdDescription(id=s.value, description=n) for s, n in USER_STATUS_NAMES.items()]


@router.get("/user", response_model=list[UserRead], tags=["user"])
def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    response: Response,
    q: str | None = Q_PARAM,
    sort: str | None = SORT_PARAM,
) -> list[UserRead]:
    filters = parse_q(q, {"id", "status", "name", "username", "organisation"})
    order = parse_sort(sort, set(service.USER_SORT))
    users, total = service.list_users(
        session=session,
        org_id=principal.org_id,
        filters=filters,
        sort=order,
        offset=page.offset,
        limit=page.per_page,
    )
    set_page_headers(response, page, total)
    org = service.get_org(session=session, org_id=principal.org_id)
    return [_user_read(u, org) for u in users]


@router.post("/user", status_code=201, response_model=UserRead, tags=["user"])
def create_user(
    body: UserCreate,
    principal: WriterDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> UserRead:
    """A user of the caller's organisation (default role: observer, the least privilege)."""
    _check_own_org(body.organisation, principal)
    role = _role_from(body.roles, "roles") or Role.OBSERVER
    user = service.create_user(
        session=session,
        org_id=principal.org_id,
        username=body.username,
        name=body.name,
        role=role,
        password=body.password,
        principal=principal,
    )
    set_location(response, request, f"/api/v1/user/{user.id}")
    return _user_read(user, service.get_org(session=session, org_id=principal.org_id))


@router.get("/user/{user_id}", response_model=UserRead, tags=["user"])
def get_user(user_id: UserRef, principal: PrincipalDep, session: SessionDep) -> UserRead:
    user = service.get_user(
        session=session, org_id=principal.org_id, user_ref=principal.user_ref(user_id)
    )
    return _user_read(user, service.get_org(session=session, org_id=principal.org_id))


@router.patch("/user/{user_id}", status_code=204, response_class=Response, tags=["user"])
def update_user(
    user_id: UserRef, body: UserUpdate, principal: WriterDep, session: SessionDep
) -> Response:
    _check_own_org(body.organisation, principal)
    changes = service.UserChanges(
        username=body.username,
        name=body.name,
        role=_role_from(body.roles, "roles"),
        status=body.status.id if body.status else None,
        password=body.password,
    )
    service.update_user(
        session=session,
        principal=principal,
        user_ref=principal.user_ref(user_id),
        changes=changes,
    )
    return no_content()


@router.delete("/user/{user_id}", status_code=204, response_class=Response, tags=["user"])
def delete_user(user_id: UserRef, principal: WriterDep, session: SessionDep) -> Response:
    service.delete_user(
        session=session, principal=principal, user_ref=principal.user_ref(user_id)
    )
    return no_content()


# --- application tokens --------------------------------------------------------------------


def _token_read(session: Session, token: ApplicationToken) -> ApplicationTokenRead:
    status = TokenStatus(token.status)
    creator = session.get(User, token.creator_id) if token.creator_id else None
    return ApplicationTokenRead(
        id=token.id,
        description=token.description,
        created=token.created_at,
        status=IdDescription(id=status.value, description=TOKEN_STATUS_NAMES[status]),
        expiry_date=token.expiry_date,
        ip=token.ip,
        creator=CreatorRead(id=token.creator_id, username=creator.username if creator else None),
    )


@router.get(
    "/application_token", response_model=list[ApplicationTokenRead], tags=["application_token"]
)
def list_application_tokens(
    principal: PrincipalDep, session: SessionDep, page: PageDep, response: Response
) -> list[ApplicationTokenRead]:
    """The organisation's tokens, never their secrets."""
    tokens, total = service.list_application_tokens(
        session=session, org_id=principal.org_id, offset=page.offset, limit=page.per_page
    )
    set_page_headers(response, page, total)
    return [_token_read(session, t) for t in tokens]


@router.post(
    "/application_token", response_model=ApplicationTokenCreated, tags=["application_token"]
)
def create_application_token(
    body: ApplicationTokenCreate,
    principal: WriterDep,
    session: SessionDep,
    request: Request,
    response: Response,
) -> ApplicationTokenCreated:
    """A new token; its secret is in this response only (emnify answers 200 here)."""
    if principal.user_id is None:
        raise Unauthorized("application tokens are created by users, not by other tokens")
    token, secret = service.create_application_token(
        session=session,
        principal=principal,
        description=body.description,
        expiry_date=body.expiry_date,
        ip=body.ip,
    )
    set_location(response, request, f"/api/v1/application_token/{token.id}")
    return ApplicationTokenCreated(application_token=secret, id=token.id)


@router.get(
    "/application_token/{app_token_id}",
    response_model=ApplicationTokenRead,
    tags=["application_token"],
)
def get_application_token(
    app_token_id: TokenId, principal: PrincipalDep, session: SessionDep
) -> ApplicationTokenRead:
    token = service.get_application_token(
        session=session, org_id=principal.org_id, token_id=app_token_id
    )
    return _token_read(session, token)


@router.patch(
    "/application_token/{app_token_id}",
    status_code=204,
    response_class=Response,
    tags=["application_token"],
)
def update_application_token(
    app_token_id: TokenId, body: ApplicationTokenUpdate, principal: WriterDep, session: SessionDep
) -> Response:
    """Change the description, or revoke with ``{"status": {"id": 1}}`` (final)."""
    service.update_application_token(
        session=session,
        principal=principal,
        token_id=app_token_id,
        description=body.description,
        status=body.status.id if body.status else None,
    )
    return no_content()


@router.delete(
    "/application_token/{app_token_id}",
    status_code=204,
    response_class=Response,
    tags=["application_token"],
)
def delete_application_token(
    app_token_id: TokenId, principal: WriterDep, session: SessionDep
) -> Response:
    service.delete_application_token(session=session, principal=principal, token_id=app_token_id)
    return no_content()
