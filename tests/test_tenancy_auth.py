"""Authentication, application tokens, users and organisations over HTTP, on SQLite and
PostgreSQL (when LINKPLANE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.errors import TooManyRequests
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.models import ApplicationToken, RefreshToken, User
from linkplane.tenancy.throttle import AttemptLimiter

PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: TestClient
    ctx: AppContext
    org_id: int
    org_name: str
    email: str

    def login(self, email: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/authenticate", json={"username": email or self.email, "password": password}
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login()['auth_token']}"}


def _org(ctx: AppContext, *, provider: bool = False) -> tuple[int, str, str]:
    name = f"org-{secrets.token_hex(4)}"
    email = f"admin-{name}@example.com"
    with transaction(ctx.sessionmaker) as session:
        org, _ = service.create_org_with_admin(
            session=session,
            name=name,
            admin_email=email,
            admin_password=PASSWORD,
            is_provider=provider,
        )
        return org.id, name, email


@pytest.fixture
def api(any_db_settings: Settings) -> Iterator[Api]:
    ctx = open_context(any_db_settings)
    org_id, name, email = _org(ctx)
    with TestClient(create_app(any_db_settings, ctx.sessionmaker)) as client:
        yield Api(client, ctx, org_id, name, email)
    ctx.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- POST /api/v1/authenticate -------------------------------------------------------------


def test_password_login_plain_and_sha1(api: Api) -> None:
    plain = api.login()
    assert set(plain) == {"auth_token", "refresh_token"}
    sha1 = hashlib.sha1(PASSWORD.encode()).hexdigest()  # what emnify clients send
    assert api.login(password=sha1)["auth_token"]
    assert api.login(email=api.email.upper(), password=sha1.upper())["auth_token"]
    r = api.client.get("/api/v1/organisation/my", headers=bearer(plain["auth_token"]))
    assert r.status_code == 200
    assert r.json()["id"] == api.org_id and r.json()["name"] == api.org_name


def test_wrong_password_and_unknown_user_are_the_same_401(api: Api) -> None:
    for body in (
        {"username": api.email, "password": "wrong password"},
        {"username": "nobody@example.com", "password": PASSWORD},
    ):
        r = api.client.post("/api/v1/authenticate", json=body)
        assert r.status_code == 401
        assert r.json()["message"] == "invalid username or password"
        assert r.json()["error_code"] == 401


def test_three_failures_lock_the_account(api: Api) -> None:
    for _ in range(3):
        r = api.client.post(
            "/api/v1/authenticate", json={"username": api.email, "password": "nope-nope"}
        )
        assert r.status_code == 401
    r = api.client.post("/api/v1/authenticate", json={"username": api.email, "password": PASSWORD})
    assert r.status_code == 401 and "TooManyRequests" in r.json()["message"]
    events = api.client.get("/api/v1/event", headers=_other_admin_of(api))
    assert events.status_code == 200


def test_parallel_wrong_passwords_still_lock_the_account(api: Api) -> None:
    """Issue 13 item 3: the failure count is atomic, so a burst of wrong passwords cannot
    slip past the lockout (before: lost increments, and SQLite answered some with 500)."""
    wrong = {"username": api.email, "password": "wrong password!"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(
            pool.map(lambda _: api.client.post("/api/v1/authenticate", json=wrong), range(20))
        )
    assert [r.status_code for r in codes] == [401] * 20
    r = api.client.post("/api/v1/authenticate", json={"username": api.email, "password": PASSWORD})
    assert r.status_code == 401 and "locked" in r.json()["message"]


def test_unknown_and_locked_users_get_the_same_answers(api: Api) -> None:
    """No username enumeration: an unknown username locks exactly like a known one."""

    def answers(username: str) -> list[tuple[int, str]]:
        body = {"username": username, "password": "wrong password!"}
        replies = [api.client.post("/api/v1/authenticate", json=body) for _ in range(4)]
        return [(r.status_code, r.json()["message"]) for r in replies]

    known, unknown = answers(api.email), answers(f"nobody-{secrets.token_hex(3)}@example.com")
    assert known == unknown
    assert "locked" in known[-1][1]


def test_a_lockout_binds_only_the_source_that_failed(api: Api) -> None:
    """Someone elsewhere cannot lock a user out: the lock is per username and address."""
    settings: Settings = api.client.app.state.settings  # type: ignore[attr-defined]

    def attempt(password: str, source: str) -> service.Tokens:
        return service.authenticate_password(
            factory=api.ctx.sessionmaker,
            settings=settings,
            username=api.email,
            password=password,
            source=source,
        )

    for _ in range(3):
        with pytest.raises(service.Unauthorized):
            attempt("wrong password!", "198.51.100.66")
    with pytest.raises(service.Unauthorized, match="locked"):
        attempt(PASSWORD, "198.51.100.66")
    assert attempt(PASSWORD, "203.0.113.10").auth_token


def _other_admin_of(api: Api) -> dict[str, str]:
    """A second admin of the same organisation (the first one is locked out)."""
    with transaction(api.ctx.sessionmaker) as session:
        user = session.scalar(select(User).where(User.username == api.email))
        assert user is not None
        token = service.mint(
            settings=api.client.app.state.settings,  # type: ignore[attr-defined]
            org_id=api.org_id,
            role="admin",
            user_id=user.id,
        )
    return bearer(token)


def test_refresh_token(api: Api) -> None:
    tokens = api.login()
    r = api.client.post("/api/v1/authenticate", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200 and set(r.json()) == {"auth_token", "refresh_token"}
    assert api.client.get("/api/v1/user", headers=bearer(r.json()["auth_token"])).status_code == 200
    bad = api.client.post("/api/v1/authenticate", json={"refresh_token": "x" * 43})
    assert bad.status_code == 401


def test_refresh_tokens_rotate(api: Api) -> None:
    """Issue 13 item 8: a refresh token is spent on use; its replacement carries on."""
    first = api.login()
    second = api.client.post(
        "/api/v1/authenticate", json={"refresh_token": first["refresh_token"]}
    ).json()
    again = api.client.post("/api/v1/authenticate", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    assert api.client.get("/api/v1/user", headers=bearer(first["auth_token"])).status_code == 401
    third = api.client.post("/api/v1/authenticate", json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    assert (
        api.client.get("/api/v1/user", headers=bearer(third.json()["auth_token"])).status_code
        == 200
    )


@pytest.mark.parametrize("change", ["password", "suspend"])
def test_password_change_or_suspension_ends_every_session(api: Api, change: str) -> None:
    admin = api.admin()
    user = _create_user(api, admin, roles=[{"id": 1}], password=PASSWORD).json()
    sessions = [api.login(email=user["username"]) for _ in range(2)]
    body = {"password": "a new long passphrase"} if change == "password" else {"status": {"id": 2}}
    assert (
        api.client.patch(f"/api/v1/user/{user['id']}", json=body, headers=admin).status_code == 204
    )
    for tokens in sessions:
        r = api.client.get("/api/v1/user", headers=bearer(tokens["auth_token"]))
        assert r.status_code == 401
        r = api.client.post("/api/v1/authenticate", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 401


def test_authenticate_needs_one_complete_method(api: Api) -> None:
    """A malformed body is 400 as emnify's authentication spec says (issue 12 defect 5)."""
    r = api.client.post("/api/v1/authenticate", json={})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "application_token"
    r = api.client.post("/api/v1/authenticate", json={"username": api.email})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "password"
    r = api.client.post("/api/v1/authenticate", json={"username": 5, "password": []})
    assert r.status_code == 400
    assert {e["field"] for e in r.json()["errors"]} == {"username", "password"}
    r = api.client.post(
        "/api/v1/authenticate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error_code"] == 400


# --- application tokens --------------------------------------------------------------------


def _new_app_token(api: Api, headers: dict[str, str], **body: Any) -> tuple[int, str]:
    r = api.client.post("/api/v1/application_token", json=body, headers=headers)
    assert r.status_code == 200, r.text  # emnify answers 200 here, not 201
    token_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert r.json()["id"] == token_id
    return token_id, r.json()["application_token"]


def test_application_token_lifecycle_as_the_emnify_sdk_uses_it(api: Api) -> None:
    admin = api.admin()
    token_id, secret = _new_app_token(api, admin, description="ci")
    # The SDK sends "Authorization: Bearer None" on its first call, including authenticate.
    sdk = {"authorization": "Bearer None", "accept": "application/json"}
    assert api.client.get("/api/v1/user", headers=sdk).status_code == 401
    r = api.client.post("/api/v1/authenticate", json={"application_token": secret}, headers=sdk)
    assert r.status_code == 200 and set(r.json()) == {"auth_token"}
    auth = bearer(r.json()["auth_token"])
    assert api.client.get("/api/v1/organisation/my", headers=auth).status_code == 200

    listed = api.client.get("/api/v1/application_token", headers=admin)
    assert listed.status_code == 200 and secret not in listed.text
    assert listed.headers["X-Total-Count"] == "1"
    (item,) = listed.json()
    assert item["id"] == token_id and item["status"] == {"id": 0, "description": "Activated"}
    assert item["creator"]["username"] == api.email

    revoke = {"status": {"id": 1}}
    r = api.client.patch(f"/api/v1/application_token/{token_id}", json=revoke, headers=admin)
    assert r.status_code == 204
    assert api.client.get("/api/v1/organisation/my", headers=auth).status_code == 401
    r = api.client.post("/api/v1/authenticate", json={"application_token": secret})
    assert r.status_code == 401
    again = {"status": {"id": 0}}
    r = api.client.patch(f"/api/v1/application_token/{token_id}", json=again, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status.id"


def test_deleted_or_expired_or_ip_bound_tokens_stop_working(api: Api) -> None:
    admin = api.admin()
    token_id, secret = _new_app_token(api, admin)
    auth = api.client.post("/api/v1/authenticate", json={"application_token": secret}).json()
    r = api.client.delete(f"/api/v1/application_token/{token_id}", headers=admin)
    assert r.status_code == 204
    assert api.client.get("/api/v1/user", headers=bearer(auth["auth_token"])).status_code == 401
    _, elsewhere = _new_app_token(api, admin, ip="203.0.113.0/24")
    r = api.client.post("/api/v1/authenticate", json={"application_token": elsewhere})
    assert r.status_code == 401  # the test client is not in 203.0.113.0/24
    r = api.client.post(
        "/api/v1/application_token", json={"expiry_date": "2001-01-01T00:00:00Z"}, headers=admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "expiry_date"
    r = api.client.post("/api/v1/application_token", json={"ip": "not-an-ip"}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ip"


def test_expiry_date_without_time_zone_is_utc(api: Api) -> None:
    """Issue 12 defect 1: a zone-less expiry_date was a 500 (naive vs aware comparison)."""
    admin = api.admin()
    token_id, _ = _new_app_token(api, admin, expiry_date="2999-01-02T03:04:05")
    r = api.client.get(f"/api/v1/application_token/{token_id}", headers=admin)
    assert r.json()["expiry_date"].startswith("2999-01-02T03:04:05")
    assert r.json()["expiry_date"].endswith(("Z", "+00:00"))
    for past in ("2001-01-01T00:00:00", "2001-01-01"):
        r = api.client.post("/api/v1/application_token", json={"expiry_date": past}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "expiry_date"


def test_unset_expiry_date_and_ip_are_left_out(api: Api) -> None:
    """Issue 12 defect 6: emnify omits unset keys; its schema allows no null there."""
    admin = api.admin()
    token_id, _ = _new_app_token(api, admin, description="plain")
    (item,) = api.client.get("/api/v1/application_token", headers=admin).json()
    assert "expiry_date" not in item and "ip" not in item
    one = api.client.get(f"/api/v1/application_token/{token_id}", headers=admin).json()
    assert "expiry_date" not in one and "ip" not in one
    bound_id, _ = _new_app_token(api, admin, ip="203.0.113.7")
    bound = api.client.get(f"/api/v1/application_token/{bound_id}", headers=admin).json()
    assert bound["ip"] == "203.0.113.7/32"


def _token_of_second_admin(api: Api) -> tuple[dict[str, str], int, dict[str, str]]:
    """(first admin's headers, a second admin's id, an auth_token of the second admin's
    application token)."""
    admin = api.admin()
    body = {"roles": [{"id": 1}], "password": PASSWORD}
    second = _create_user(api, admin, **body).json()
    tokens = api.login(email=second["username"])
    _, secret = _new_app_token(api, bearer(tokens["auth_token"]))
    auth = api.client.post("/api/v1/authenticate", json={"application_token": secret}).json()
    return admin, second["id"], bearer(auth["auth_token"])


def test_a_demoted_creators_token_acts_as_an_observer(api: Api) -> None:
    """Issue 13 item 5: a token never outlives its creator's rights."""
    admin, creator, token = _token_of_second_admin(api)
    r = api.client.patch(f"/api/v1/user/{creator}", json={"roles": [{"id": 3}]}, headers=admin)
    assert r.status_code == 204
    r = _create_user(api, token, roles=[{"id": 1}], password=PASSWORD)
    assert r.status_code == 403, r.text
    assert api.client.get("/api/v1/user", headers=token).status_code == 200  # still reads


@pytest.mark.parametrize("change", ["suspend", "delete"])
def test_a_suspended_or_deleted_creators_token_stops_working(api: Api, change: str) -> None:
    admin, creator, token = _token_of_second_admin(api)
    if change == "suspend":
        r = api.client.patch(f"/api/v1/user/{creator}", json={"status": {"id": 2}}, headers=admin)
    else:
        r = api.client.delete(f"/api/v1/user/{creator}", headers=admin)
    assert r.status_code == 204
    assert api.client.get("/api/v1/user", headers=token).status_code == 401


def test_secrets_are_stored_only_as_hashes(api: Api) -> None:
    admin = api.admin()
    _, secret = _new_app_token(api, admin)
    refresh = api.login()["refresh_token"]
    with api.ctx.engine.connect() as conn:
        dump = " ".join(
            str(row)
            for table in ("app_user", "application_token", "refresh_token", "event")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
        )
    for clear in (secret, refresh, PASSWORD, hashlib.sha1(PASSWORD.encode()).hexdigest()):
        assert clear not in dump
    with transaction(api.ctx.sessionmaker) as session:
        stored_pw = session.scalar(select(User.password_hash).where(User.username == api.email))
        assert stored_pw is not None and stored_pw.startswith("$argon2id$")
        digest = hashlib.sha256(secret.encode()).hexdigest()
        assert session.scalar(
            select(ApplicationToken.id).where(ApplicationToken.token_hash == digest)
        )
        assert (
            session.scalar(select(RefreshToken.id).where(RefreshToken.token_hash == refresh))
            is None
        )


# --- users ---------------------------------------------------------------------------------


def _create_user(api: Api, admin: dict[str, str], **extra: Any) -> Any:
    body = {"username": f"u{secrets.token_hex(3)}@example.com", "name": "Jo", **extra}
    return api.client.post("/api/v1/user", json=body, headers=admin)


def test_user_crud_roles_and_status(api: Api) -> None:
    admin = api.admin()
    r = _create_user(api, admin, roles=[{"id": 3}], password="observer-pass-1")
    assert r.status_code == 201
    user_id = int(r.headers["Location"].rsplit("/", 1)[1])
    assert r.json()["roles"] == [{"id": 3, "name": "Observer", "description": "Observer"}]
    assert r.json()["status"]["id"] == 1
    username = r.json()["username"]
    observer = bearer(api.login(email=username, password="observer-pass-1")["auth_token"])
    assert api.client.get("/api/v1/user/my", headers=observer).json()["id"] == user_id
    assert _create_user(api, observer).status_code == 403

    assert api.client.get(f"/api/v1/user/{username}", headers=admin).json()["id"] == user_id
    r = api.client.patch(f"/api/v1/user/{user_id}", json={"status": {"id": 2}}, headers=admin)
    assert r.status_code == 204
    assert api.client.get("/api/v1/user/my", headers=observer).status_code == 401  # suspended
    r = api.client.patch(f"/api/v1/user/{user_id}", json={"status": {"id": 0}}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status.id"
    assert api.client.delete(f"/api/v1/user/{user_id}", headers=admin).status_code == 204
    assert api.client.get(f"/api/v1/user/{user_id}", headers=admin).status_code == 404


def test_user_input_errors_name_the_field(api: Api) -> None:
    admin = api.admin()
    cases = [
        ({"roles": [{"id": 2}]}, 422, "roles"),
        ({"organisation": {"id": api.org_id + 1000}}, 404, "organisation.id"),
        ({"username": "not-an-email", "name": "x"}, 422, "username"),
        ({"name": 5}, 422, "name"),
        ({"unknown_field": 1}, 422, "unknown_field"),
    ]
    for extra, status, field in cases:
        r = _create_user(api, admin, **extra)
        assert r.status_code == status, (extra, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (extra, r.json())
    r = _create_user(api, admin, username=api.email)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "username"


def test_trivial_passwords_are_refused_with_the_reason(api: Api) -> None:
    admin = api.admin()
    username = f"kim-{secrets.token_hex(3)}@example.com"
    for weak, reason in (
        ("password", "most common"),
        ("12345678", "most common"),
        ("PassWord123", "most common"),
        (" " * 8, "one character"),
        ("aaaaaaaaaaaa", "one character"),
        (username, "username"),
        (username.split("@")[0], "username"),
    ):
        body = {"username": username, "name": "Kim", "password": weak}
        r = api.client.post("/api/v1/user", json=body, headers=admin)
        assert r.status_code == 422, (weak, r.text)
        assert r.json()["errors"][0]["field"] == "password" and reason in r.text, weak
    ok = _create_user(api, admin, password="four random words here")
    assert ok.status_code == 201
    r = api.client.patch(
        f"/api/v1/user/{ok.json()['id']}", json={"password": "12345678"}, headers=admin
    )
    assert r.status_code == 422 and "most common" in r.text


def test_last_admin_cannot_lock_the_organisation_out(api: Api) -> None:
    admin = api.admin()
    me = api.client.get("/api/v1/user/my", headers=admin).json()["id"]
    r = api.client.patch(f"/api/v1/user/{me}", json={"status": {"id": 2}}, headers=admin)
    assert r.status_code == 409
    r = api.client.patch(f"/api/v1/user/{me}", json={"roles": [{"id": 3}]}, headers=admin)
    assert r.status_code == 409
    assert api.client.delete(f"/api/v1/user/{me}", headers=admin).status_code == 409


def test_user_list_pagination_filters_and_sort(api: Api) -> None:
    admin = api.admin()
    for name in ("Bea", "Al", "Cy"):
        assert _create_user(api, admin, name=name).status_code == 201
    r = api.client.get("/api/v1/user?per_page=2&page=1&sort=-name", headers=admin)
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "4" and r.headers["X-Total-Pages"] == "2"
    names = [u["name"] for u in r.json()]
    assert names == sorted(names, reverse=True) and len(names) == 2
    r = api.client.get("/api/v1/user?q=name:Bea", headers=admin)
    assert [u["name"] for u in r.json()] == ["Bea"]
    r = api.client.get("/api/v1/user?q=color:red", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q.color"
    r = api.client.get("/api/v1/user?sort=password_hash", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "sort"
    r = api.client.get("/api/v1/user?page=0", headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "page"


# --- organisations (provider) --------------------------------------------------------------


def test_provider_admin_manages_organisations(api: Api) -> None:
    _, _, provider_email = _org(api.ctx, provider=True)
    provider = bearer(api.login(email=provider_email)["auth_token"])
    name = f"new-{secrets.token_hex(3)}"
    body = {"name": name, "admin": {"username": f"boss@{name}.example.com", "password": PASSWORD}}
    r = api.client.post("/api/v1/organisation", json=body, headers=provider)
    assert r.status_code == 201 and r.headers["Location"].endswith(f"/{r.json()['id']}")
    assert api.client.get(r.headers["Location"], headers=provider).json()["name"] == name
    new_admin = bearer(api.login(email=f"boss@{name}.example.com")["auth_token"])
    assert api.client.get("/api/v1/organisation/my", headers=new_admin).json()["name"] == name
    listed = api.client.get("/api/v1/organisation", headers=provider)
    assert name in {o["name"] for o in listed.json()}
    assert api.client.post("/api/v1/organisation", json=body, headers=provider).status_code == 409
    tenant = api.admin()
    assert api.client.get("/api/v1/organisation", headers=tenant).status_code == 403
    assert api.client.post("/api/v1/organisation", json=body, headers=tenant).status_code == 403


def test_oversized_body_is_413_and_writes_nothing(api: Api) -> None:
    admin = api.admin()
    before = api.client.get("/api/v1/user", headers=admin).headers["X-Total-Count"]
    big = {"username": "big@example.com", "name": "x" * (2 * 1024 * 1024)}
    r = api.client.post("/api/v1/user", json=big, headers=admin)
    assert r.status_code == 413
    assert r.json()["error_code"] == 413 and r.json()["errors"][0]["field"] == "body"
    assert api.client.get("/api/v1/user", headers=admin).headers["X-Total-Count"] == before


# --- rate limit ----------------------------------------------------------------------------


def test_sign_in_attempts_are_rate_limited_per_source(api: Api) -> None:
    """Issue 13 (low): argon2 per attempt made /authenticate a CPU lever; past the budget
    an address gets 429 with Retry-After, before any password is checked."""
    api.client.app.state.auth_limiter = AttemptLimiter(3)  # type: ignore[attr-defined]
    wrong = {"username": "nobody@example.com", "password": "wrong password!"}
    codes = [api.client.post("/api/v1/authenticate", json=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 401]
    r = api.client.post("/api/v1/authenticate", json={"username": api.email, "password": PASSWORD})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 20
    assert "too many sign-in attempts" in r.json()["message"]


def test_the_attempt_budget_refills_and_is_per_address() -> None:
    limiter = AttemptLimiter(2)
    limiter.take("198.51.100.1", now=0.0)
    limiter.take("198.51.100.1", now=0.0)
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("198.51.100.1", now=0.0)
    assert refused.value.retry_after == 30
    limiter.take("198.51.100.2", now=0.0)  # another address has its own budget
    limiter.take("198.51.100.1", now=30.0)  # one attempt back after 60 / 2 seconds


def test_housekeeping_forgets_old_failures_and_expired_tokens_but_never_a_live_lock(
    api: Api,
) -> None:
    """A password spray with made-up usernames must not grow ``login_throttle`` for ever:
    the hourly pass deletes counts a day old and expired refresh tokens, nothing live."""
    from datetime import timedelta

    from linkplane.db import utcnow
    from linkplane.tenancy.models import LoginThrottle
    from linkplane.tenancy.workflows import prune

    settings: Settings = api.client.app.state.settings  # type: ignore[attr-defined]
    sprayed = [f"spray-{secrets.token_hex(4)}@example.com" for _ in range(3)]
    for name in [*sprayed, api.email, api.email, api.email]:  # the last three lock the admin
        with pytest.raises(service.Unauthorized):
            service.authenticate_password(factory=api.ctx.sessionmaker, settings=settings,
                                          username=name, password="wrong password!",
                                          source="198.51.100.7")  # fmt: skip
    live = api.login(email=None)["refresh_token"]  # another source: not locked
    now = utcnow()
    with transaction(api.ctx.sessionmaker) as session:
        for row in session.scalars(select(LoginThrottle).where(LoginThrottle.username.in_(
                [n.lower() for n in sprayed[:2]] + [api.email.lower()]))):  # fmt: skip
            row.last_failure_at = now - timedelta(days=2)  # old, but the admin's is locked
        stale = session.scalars(select(RefreshToken)).all()
        expired = [t for t in stale if t.token_hash != hashlib.sha256(live.encode()).hexdigest()]
        for token in expired:
            token.expires_at = now - timedelta(seconds=1)
        n_expired = len(expired)
    with transaction(api.ctx.sessionmaker) as session:
        counts = prune(session)
    assert counts == {"sign_in_failures": 2, "refresh_tokens": n_expired}
    with api.ctx.sessionmaker() as session:
        left = set(session.scalars(select(LoginThrottle.username)))
    assert {n.lower() for n in sprayed[:2]}.isdisjoint(left)
    assert {sprayed[2].lower(), api.email.lower()} <= left  # a recent count, a live lock
    with pytest.raises(service.Unauthorized, match="locked"):
        service.authenticate_password(factory=api.ctx.sessionmaker, settings=settings,
                                      username=api.email, password=PASSWORD,
                                      source="198.51.100.7")  # fmt: skip
    r = api.client.post("/api/v1/authenticate", json={"refresh_token": live})
    assert r.status_code == 200, r.text  # the live refresh token survived
