"""The API's security harness: every route, as another tenant and as a read-only user.

``tests/test_api_isolation.py`` enumerates every route of the FastAPI app and, for each
method, sends the request as (a) an admin of *another* organisation and (b) a read-only
(observer) user of the owning organisation, against a sample resource of the owner. It
asserts: other tenant -> 404 on routes with ids, nothing of the owner in any response body;
observer -> 403 on every mutating method and 2xx on reads; and the owner's re-read shows
nothing changed. A route nobody declared FAILS ``test_every_route_is_declared``.

Declaring your feature's routes (one small module per feature in ``tests/api_resources/``,
imported automatically)::

    from tests.api_harness import Harness, lookup, resource

    @resource(
        "/api/v1/endpoint",                    # every route template this resource covers
        "/api/v1/endpoint/{endpoint_id}",
        bodies={                               # valid bodies (else {}), dict or h -> dict
            "POST /api/v1/endpoint": lambda h: {"name": h.unique("ep")},
            "PATCH /api/v1/endpoint/{endpoint_id}": {"name": "renamed"},
        },
    )
    def endpoint(h: Harness) -> dict[str, object]:
        '''Create one sample in h.owner (use h.unique() in names); return its path params.'''
        r = h.client.post("/api/v1/endpoint", json={"name": h.unique("ep")}, headers=h.owner.admin)
        return {"endpoint_id": h.location_id(r)}

    lookup("/api/v1/endpoint/status")          # no tenant data: reads only
    provider_only("/api/v1/organisation")      # provider admins only: others get 403
    own("/api/v1/user/mfa")                    # the caller's own account, observers too
    @secret("/api/v1/x/{x_id}/key")            # a resource's secret: observers get 403
    public("/api/v1/authenticate")             # no authentication at all

Every string made with ``h.unique()`` contains the run's marker; the harness fails if the
other tenant ever sees the marker. Path parameters not returned by a sample get
``missing_params`` (a large unknown id), so every route can be called.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from linkplane.db import transaction
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.principal import Role

Body = dict[str, Any] | Callable[["Harness"], dict[str, Any]]
Factory = Callable[["Harness"], dict[str, Any]]
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
UNKNOWN_ID = 987_654_321


@dataclass
class Declaration:
    name: str
    templates: tuple[str, ...]
    kind: str  # "resource" | "secret" | "lookup" | "provider" | "public" | "own"
    factory: Factory | None = None
    bodies: dict[str, Body] = field(default_factory=dict)


REGISTRY: dict[str, Declaration] = {}


def _register(decl: Declaration) -> None:
    for template in decl.templates:
        if template in REGISTRY:
            raise ValueError(f"{template} declared twice ({REGISTRY[template].name})")
        REGISTRY[template] = decl


def resource(
    *templates: str, bodies: dict[str, Body] | None = None
) -> Callable[[Factory], Factory]:
    """Declare the routes of a resource and how to create one sample of it."""

    def wrap(factory: Factory) -> Factory:
        _register(Declaration(factory.__name__, templates, "resource", factory, bodies or {}))
        return factory

    return wrap


def lookup(*templates: str, bodies: dict[str, Body] | None = None) -> None:
    """Routes without tenant data of their own (lookups, own-organisation reads)."""
    _register(Declaration("lookup", templates, "lookup", None, bodies or {}))


def provider_only(*templates: str, bodies: dict[str, Body] | None = None) -> None:
    """Routes only provider administrators may use: every tenant gets 403."""
    _register(Declaration("provider", templates, "provider", None, bodies or {}))


def secret(
    *templates: str, bodies: dict[str, Body] | None = None
) -> Callable[[Factory], Factory]:
    """Reads of a resource that hold a secret (a VPN's pre-shared keys): like
    :func:`resource`, but an observer is refused (403) on reads too."""

    def wrap(factory: Factory) -> Factory:
        _register(Declaration(factory.__name__, templates, "secret", factory, bodies or {}))
        return factory

    return wrap


def own(*templates: str, bodies: dict[str, Body] | None = None) -> None:
    """Routes on the caller's own account (MFA enrolment): every signed-in user may use them,
    observers included, and they name no other user. Still checked: nothing of the owner
    leaks to the other tenant, and an observer is not refused for being read-only."""
    _register(Declaration("own", templates, "own", None, bodies or {}))


def public(*templates: str) -> None:
    """Routes that need no authentication (the harness does not exercise them)."""
    _register(Declaration("public", templates, "public"))


def load_declarations() -> dict[str, Declaration]:
    import tests.api_resources as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return REGISTRY


# --- the checks -----------------------------------------------------------------------

PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def api_routes(routes: Iterable[Any]) -> Iterator[tuple[str, set[str]]]:
    """(full path, methods) of every API route, through included routers of any depth
    (FastAPI >= 0.16x keeps included routers as nodes; older versions flatten them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods)
        elif hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                if isinstance(ctx.original_route, APIRoute):
                    yield ctx.path, set(ctx.original_route.methods)


def fill(template: str, params: dict[str, Any]) -> tuple[str, bool]:
    """The concrete path, and whether every id in it came from the sample."""
    names = PARAM.findall(template)
    complete = all(n in params for n in names)
    return PARAM.sub(lambda m: str(params.get(m.group(1), UNKNOWN_ID)), template), complete


def send(h: Harness, method: str, path: str, headers: dict[str, str], body: Any) -> Any:
    if method in ("POST", "PUT", "PATCH"):
        return h.client.request(method, path, headers=headers, json=body)
    return h.client.request(method, path, headers=headers)


def snapshot(
    h: Harness, decl: Declaration, params: dict[str, Any], gets: set[str]
) -> dict[str, Any]:
    """What the owner sees through every GET route of the resource."""
    seen: dict[str, Any] = {}
    for template in decl.templates:
        if template in gets:
            path, _ = fill(template, params)
            r = h.client.get(path, headers=h.owner.admin)
            seen[path] = (r.status_code, r.json() if r.content else None)
    return seen


def check_route(h: Harness, decl: Declaration, method: str, template: str, gets: set[str]) -> None:
    """The isolation and role checks of one route and method (see the module docstring)."""
    params = decl.factory(h) if decl.factory else {}
    path, complete = fill(template, params)
    has_ids = bool(PARAM.search(template))
    before = snapshot(h, decl, params, gets)

    other = send(h, method, path, h.other.admin, h.body_for(decl, method, template))
    assert h.marker not in other.text, f"other tenant saw owner data: {other.text[:300]}"
    if decl.kind == "provider":
        assert other.status_code == 403, other.text
    elif has_ids:
        assert other.status_code == 404, f"other tenant got {other.status_code}: {other.text}"

    observer = send(h, method, path, h.owner.observer, h.body_for(decl, method, template))
    if decl.kind == "own":
        assert observer.status_code != 403 and observer.status_code < 500, observer.text
    elif decl.kind in ("provider", "secret") or method in MUTATING:
        assert observer.status_code == 403, f"observer got {observer.status_code}: {observer.text}"
    elif complete:
        assert 200 <= observer.status_code < 300, observer.text

    assert snapshot(h, decl, params, gets) == before, "the owner's data changed"


# --- the world the checks run in -----------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Org:
    id: int
    name: str
    admin_id: int
    admin: dict[str, str]
    observer: dict[str, str]


@dataclass
class Harness:
    client: TestClient
    settings: Settings
    factory: sessionmaker[Session]
    marker: str
    owner: Org = field(init=False)
    other: Org = field(init=False)
    counter: int = 0

    def unique(self, prefix: str = "x") -> str:
        """A fresh name carrying the run's marker (what the other tenant must never see)."""
        self.counter += 1
        return f"{prefix}-{self.marker}-{self.counter}"

    def email(self, prefix: str = "u") -> str:
        return f"{self.unique(prefix)}@example.com"

    @staticmethod
    def location_id(response: Response) -> int:
        assert response.status_code in (200, 201), response.text
        return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    def body_for(self, decl: Declaration | None, method: str, template: str) -> dict[str, Any]:
        """The declared body; names it makes with unique() do not carry the owner's marker
        (the other tenant may legitimately create and see them in its own organisation)."""
        body = decl.bodies.get(f"{method} {template}", {}) if decl else {}
        if not callable(body):
            return dict(body)
        marker, self.marker = self.marker, f"body{secrets.token_hex(3)}"
        try:
            return body(self)
        finally:
            self.marker = marker


def make_org(h: Harness, name: str, *, provider: bool = False) -> Org:
    """An organisation with an admin and an observer, and auth tokens for both."""
    with transaction(h.factory) as session:
        org, admin = service.create_org_with_admin(
            session=session,
            name=name,
            admin_email=f"admin-{name}@example.com",
            admin_password=secrets.token_urlsafe(12),
            is_provider=provider,
        )
        observer = service.create_user(
            session=session,
            org_id=org.id,
            username=f"observer-{name}@example.com",
            name=f"observer {name}",
            role=Role.OBSERVER,
            password=secrets.token_urlsafe(12),
            principal=None,
        )
        ids = org.id, admin.id, observer.id
    admin_token = service.mint(settings=h.settings, org_id=ids[0], role="admin", user_id=ids[1])
    obs_token = service.mint(settings=h.settings, org_id=ids[0], role="observer", user_id=ids[2])
    return Org(ids[0], name, ids[1], bearer(admin_token), bearer(obs_token))


def build(client: TestClient, settings: Settings, factory: sessionmaker[Session]) -> Harness:
    h = Harness(client=client, settings=settings, factory=factory, marker=secrets.token_hex(6))
    h.owner = make_org(h, f"owner-{h.marker}")
    h.other = make_org(h, f"other-{secrets.token_hex(4)}")
    return h
