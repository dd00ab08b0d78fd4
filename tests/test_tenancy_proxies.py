"""``X-Forwarded-For`` is believed only from ``LINKPLANE_TRUSTED_PROXIES`` (issue 13 item 4).

These go through real uvicorn (:func:`linkplane.process.http.server`, used by ``serve``, ``up``
and the workers' operations port): the test client bypasses uvicorn's proxy handling.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from linkplane.context import open_context
from linkplane.db import transaction
from linkplane.process.app import create_app
from linkplane.process.http import ApiThread, bind
from linkplane.settings import Settings
from linkplane.tenancy import service
from linkplane.tenancy.principal import Principal, Role

BOUND_TO = "203.0.113.0/24"
FORGED = {"X-Forwarded-For": "203.0.113.9"}


def _served(tmp_path: Path, trusted_proxies: str) -> Iterator[tuple[str, str]]:
    """(base url, secret of an application token bound to 203.0.113.0/24)."""
    settings = Settings(data_dir=tmp_path / "data", trusted_proxies=trusted_proxies)
    ctx = open_context(settings)
    with transaction(ctx.sessionmaker) as session:
        org, admin = service.create_org_with_admin(
            session=session,
            name=f"org-{secrets.token_hex(4)}",
            admin_email=f"a-{secrets.token_hex(4)}@example.com",
            admin_password="correct horse battery",
        )
        principal = Principal(user_id=admin.id, org_id=org.id, role=Role.ADMIN)
        _, secret = service.create_application_token(
            session=session, principal=principal, description=None, expiry_date=None, ip=BOUND_TO
        )
    sock = bind("127.0.0.1", 0, "API", "--port")
    api = ApiThread(create_app(settings, ctx.sessionmaker), sock, settings.trusted_proxies)
    api.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", secret
    finally:
        api.stop()
        ctx.close()


@pytest.fixture
def untrusting(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _served(tmp_path, "")


@pytest.fixture
def behind_local_proxy(tmp_path: Path) -> Iterator[tuple[str, str]]:
    yield from _served(tmp_path, "127.0.0.1")


def _authenticate(url: str, secret: str) -> httpx.Response:
    body = {"application_token": secret}
    return httpx.post(f"{url}/api/v1/authenticate", json=body, headers=FORGED, timeout=30)


def test_forged_forwarded_for_does_not_unlock_an_ip_bound_token(
    untrusting: tuple[str, str],
) -> None:
    url, secret = untrusting
    r = _authenticate(url, secret)
    assert r.status_code == 401  # the peer is 127.0.0.1, whatever the header says


def test_a_configured_proxy_passes_on_the_client_address(
    behind_local_proxy: tuple[str, str],
) -> None:
    url, secret = behind_local_proxy
    r = _authenticate(url, secret)
    assert r.status_code == 200, r.text


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        Settings(trusted_proxies="10.0.0.1,proxy.example")
    assert Settings(trusted_proxies=" 10.0.0.1 , 10.1.0.0/16").trusted_proxies == (
        "10.0.0.1,10.1.0.0/16"
    )
