"""Portal sign-in, sign-out, session expiry, CSRF and role-aware rendering (no browser)."""

from __future__ import annotations

from datetime import timedelta

from linkplane.context import AppContext
from linkplane.db import utcnow
from linkplane.portal.sessions import SESSION_COOKIE
from tests.portal.client import PortalClient
from tests.portal.harness import Org


def test_pages_need_a_session(web: PortalClient) -> None:
    response = web.get("/?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fpage%3D2"


def test_sign_in_sets_an_httponly_lax_session_and_honours_next(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    token = web.csrf("/login")
    response = web.post(
        "/login",
        data={"csrf_token": token, "username": tenants["acme"].admin,
              "password": "correct horse battery", "next": "/cloud-connect"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/cloud-connect"
    cookie = next(v for k, v in response.headers.multi_items() if v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=3600" in cookie
    page = web.get("/")
    assert page.status_code == 200 and "Dashboard" in page.text


def test_wrong_password_is_shown_and_no_session(web: PortalClient, tenants: dict[str, Org]) -> None:
    data = {"csrf_token": web.csrf("/login"), "username": tenants["acme"].admin,
            "password": "wrong password"}  # fmt: skip
    response = web.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 401
    assert "invalid username or password" in response.text
    assert SESSION_COOKIE not in web.cookies


def test_sign_in_is_rate_limited_per_address(web: PortalClient, tenants: dict[str, Org]) -> None:
    from linkplane.tenancy.throttle import AttemptLimiter

    web.app.state.auth_limiter = AttemptLimiter(1)  # type: ignore[attr-defined]
    for route in web.app.routes:  # type: ignore[attr-defined]
        if getattr(route, "name", "") == "portal":
            route.app.state.auth_limiter = web.app.state.auth_limiter  # type: ignore[attr-defined]
    data = {"csrf_token": web.csrf("/login"), "username": tenants["acme"].admin,
            "password": "wrong password"}  # fmt: skip
    assert web.post("/login", data=data, follow_redirects=False).status_code == 401
    response = web.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 60
    assert "too many sign-in attempts" in response.text


def test_next_cannot_leave_the_site(web: PortalClient, tenants: dict[str, Org]) -> None:
    data = {"csrf_token": web.csrf("/login"), "username": tenants["acme"].admin,
            "password": "correct horse battery", "next": "//evil.example.com/"}  # fmt: skip
    response = web.post("/login", data=data, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_forms_without_a_valid_csrf_token_are_refused(
    web: PortalClient, tenants: dict[str, Org]
) -> None:
    data = {"username": tenants["acme"].admin, "password": "correct horse battery"}
    assert web.post("/login", data=data, follow_redirects=False).status_code == 403
    web.sign_in(tenants["acme"].admin)
    assert web.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert web.get("/").status_code == 200  # still signed in


def test_sign_out_ends_the_session(web: PortalClient, tenants: dict[str, Org]) -> None:
    web.sign_in(tenants["acme"].admin)
    response = web.submit("/logout", "/")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert SESSION_COOKIE not in web.cookies
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_copied_cookie_is_dead_after_sign_out(web: PortalClient, tenants: dict[str, Org]) -> None:
    """Issue 13 item 8: sign-out ends the session on the server, not only in this browser."""
    web.sign_in(tenants["acme"].admin)
    copied = web.cookies[SESSION_COOKIE]
    assert web.get("/api/v1/user", headers={"Authorization": f"Bearer {copied}"}).status_code == 200
    web.submit("/logout", "/")
    web.cookies.set(SESSION_COOKIE, copied)
    assert web.get("/", follow_redirects=False).status_code == 303
    r = web.get("/api/v1/user", headers={"Authorization": f"Bearer {copied}"})
    assert r.status_code == 401


def test_an_expired_session_asks_to_sign_in_again(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    from linkplane.tenancy.service import mint

    ctx, _ = portal_ctx
    stale = mint(settings=ctx.settings, org_id=tenants["acme"].id, role="admin", user_id=1,
                 now=utcnow() - timedelta(hours=2))  # fmt: skip
    web.cookies.set(SESSION_COOKIE, stale)
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("&expired=1")
    login = web.get(response.headers["location"])
    assert "Your session has expired" in login.text


def test_htmx_requests_are_redirected_with_a_header(web: PortalClient) -> None:
    response = web.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")


def test_observer_is_marked_read_only(web: PortalClient, tenants: dict[str, Org]) -> None:
    web.sign_in(tenants["acme"].observer)
    assert "(read-only)" in web.get("/").text


def test_unknown_api_paths_still_answer_json(web: PortalClient) -> None:
    response = web.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error_code"] == 404


def test_the_api_schema_does_not_list_portal_pages(web: PortalClient) -> None:
    paths = web.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/")]


def test_pages_cannot_be_framed_or_cached(web: PortalClient) -> None:
    response = web.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    # Issue 13 (low): no inline script or style may run, only what /static serves.
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for page in ("/login", "/"):
        html = web.get(page).text
        assert "<script>" not in html and " style=" not in html and " onchange=" not in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in web.get("/static/portal.css").headers.get("Cache-Control", "")


def test_a_form_posted_after_expiry_returns_to_its_page_after_sign_in(
    web: PortalClient, tenants: dict[str, Org], portal_ctx: tuple[AppContext, dict[str, Org]]
) -> None:
    from linkplane.portal.sessions import csrf_for_session
    from linkplane.tenancy.service import mint

    ctx, _ = portal_ctx
    stale = mint(settings=ctx.settings, org_id=tenants["acme"].id, role="admin", user_id=1,
                 now=utcnow() - timedelta(hours=2))  # fmt: skip
    web.cookies.set(SESSION_COOKIE, stale)
    response = web.post(
        "/devices/1/status",
        data={"csrf_token": csrf_for_session(stale), "status": "1"},
        headers={"Referer": "http://testserver/devices/1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/devices/1&expired=1"
