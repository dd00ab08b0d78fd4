"""API callbacks: registration rules (SSRF), signing, and the durable delivery of MO SMS
(retries with backoff, permanent failures, a crashed worker's lease taken over)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from linkplane.access.network import Network
from linkplane.callbacks import urls
from linkplane.callbacks.models import CallbackDelivery
from linkplane.callbacks.worker import CallbackWorker, HttpSender
from linkplane.db import utcnow
from linkplane.settings import Settings
from linkplane.sms import device
from tests.callback_receiver import receiver
from tests.sms_support import device as new_device
from tests.sms_support import events, in_session, own_profile
from tests.test_devices_support import Fleet, fleet

__all__ = ["fleet"]

SECRET = "s3cret-" + "x" * 40
LOCAL = "127.0.0.1/32"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", callback_allowed_cidrs=LOCAL,
                    callback_backoff_base_seconds=10, callback_max_attempts=3,
                    callback_timeout_seconds=5)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- which URLs may be called -----------------------------------------------------------------

REFUSED = [
    "ftp://example.com/x", "http://user:pw@example.com/", "http://", "http://example.com:99999/",
    "http://127.0.0.1/", "http://10.0.0.5/", "http://192.168.1.1/", "http://169.254.169.254/latest",
    "http://100.64.0.1/", "http://[::1]/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/",
    "http://0.0.0.0/", "http://224.0.0.1/", "http://localhost:8080/", "http://a.localhost/",
]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED)
def test_unsafe_callback_urls_are_refused(url: str) -> None:
    with pytest.raises(Exception, match="callback URL refused") as err:
        urls.check_url(url, ())
    assert err.value.field == "url"  # type: ignore[attr-defined]


def test_public_and_explicitly_allowed_urls_pass() -> None:
    assert urls.check_url("https://example.com/hook", ()) == "https://example.com/hook"
    assert urls.check_url("http://93.184.216.34/x", ())
    allowed = urls.parse_allowed("127.0.0.1/32, 10.1.0.0/16")
    assert urls.check_url("http://127.0.0.1:8080/x", allowed)
    assert urls.check_url("http://10.1.2.3/x", allowed)
    with pytest.raises(ValueError, match="not a CIDR"):
        urls.parse_allowed("10.1.0.0/99")


def _resolver(*addresses: str) -> urls.Resolver:
    def resolve(host: str, port: int, **_kw: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def test_names_are_resolved_vetted_and_pinned() -> None:
    pinned = urls.pin("https://hooks.example.com/in?x=1", (),
                      _resolver("10.0.0.7", "93.184.216.34"))  # fmt: skip
    assert pinned.url == "https://93.184.216.34/in?x=1"
    assert pinned.host_header == "hooks.example.com" and pinned.sni_hostname == "hooks.example.com"
    with pytest.raises(urls.UnsafeTarget, match="no public address"):
        urls.pin("http://rebind.example.com/", (), _resolver("127.0.0.1", "169.254.169.254"))
    net = ipaddress.ip_network("127.0.0.0/8")
    assert urls.pin("http://x.test:81/", (net,), _resolver("127.0.0.2")).url == "http://127.0.0.2:81/"


# --- registration over the API ----------------------------------------------------------------


def test_callbacks_and_secrets_over_the_api(fleet: Fleet) -> None:
    r = fleet.post("/api/v1/api_callback", {"url": "http://169.254.169.254/latest/meta-data"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "url"
    r = fleet.post("/api/v1/api_callback", {"url": "https://hooks.example.com/sms"})
    assert r.status_code == 201
    assert r.headers["Location"].endswith(f"/api_callback/{r.json()['id']}")
    cb = r.json()
    assert fleet.get("/api/v1/api_callback").json() == [cb]
    assert fleet.get(f"/api/v1/api_callback/{cb['id']}", org="globex").status_code == 404

    assert fleet.post("/api/v1/api_secret", {"secret": "short"}).status_code == 422
    made = fleet.post("/api/v1/api_secret", {}).json()
    assert len(made["secret"]) >= 32  # generated, shown once
    listed = fleet.get("/api/v1/api_secret").json()
    assert listed == [{"id": made["id"], "organisation_id": str(fleet.orgs["acme"])}]
    assert made["secret"] not in fleet.get(f"/api/v1/api_secret/{made['id']}").text

    sp = fleet.profiles()[0]
    bad = fleet.patch(f"/api/v1/service_profile/{sp}", {"api_callback": {"id": 999}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "api_callback.id"
    other = fleet.post("/api/v1/api_callback", {"url": "https://x.example.com/"}, org="globex")
    r = fleet.patch(f"/api/v1/service_profile/{sp}", {"api_callback": {"id": other.json()["id"]}})
    assert r.status_code == 422  # another organisation's callback reads as missing
    body = {"api_callback": {"id": cb["id"]}, "api_secret": {"id": made["id"]}}
    assert fleet.patch(f"/api/v1/service_profile/{sp}", body).status_code == 204
    profile = fleet.get(f"/api/v1/service_profile/{sp}").json()
    assert profile["api_callback"] == {"id": cb["id"], "url": cb["url"]}
    assert profile["api_secret"] == {"id": made["id"]}
    assert fleet.delete(f"/api/v1/api_callback/{cb['id']}").status_code == 409
    assert fleet.delete(f"/api/v1/api_secret/{made['id']}").status_code == 409
    clear = {"api_callback": {"id": None}, "api_secret": {"id": None}}
    assert fleet.patch(f"/api/v1/service_profile/{sp}", clear).status_code == 204
    assert "api_callback" not in fleet.get(f"/api/v1/service_profile/{sp}").json()
    assert fleet.delete(f"/api/v1/api_callback/{cb['id']}").status_code == 204
    assert fleet.delete(f"/api/v1/api_secret/{made['id']}").status_code == 204


# --- delivery ------------------------------------------------------------------------------


def _mo_with_callback(fleet: Fleet, url: str, secret: str | None = SECRET) -> tuple[int, int]:
    eid = new_device(fleet)
    sp = own_profile(fleet, eid)
    cb = fleet.post("/api/v1/api_callback", {"url": url})
    assert cb.status_code == 201, cb.text
    link: dict[str, Any] = {"api_callback": {"id": cb.json()["id"]}}
    if secret:
        made = fleet.post("/api/v1/api_secret", {"secret": secret}).json()
        link["api_secret"] = {"id": made["id"]}
    assert fleet.patch(f"/api/v1/service_profile/{sp}", link).status_code == 204
    sent = in_session(fleet, device.send, org_id=fleet.orgs["acme"], endpoint_id=eid,
                      payload="temp=21", network=Network())  # fmt: skip
    return eid, sent.sms.id


def _delivery(fleet: Fleet, sms_id: int) -> CallbackDelivery:
    with fleet.ctx.sessionmaker() as session:
        row: CallbackDelivery = session.query(CallbackDelivery).filter_by(sms_id=sms_id).one()
        return row


def _callback_events(fleet: Fleet, eid: int) -> list[dict[str, Any]]:
    return [e for e in events(fleet, eid) if e["event_type"]["description"].startswith("SMS call")]


def test_delivery_is_signed_retried_with_backoff_and_recorded(
    fleet: Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    with receiver([503, 200]) as rx:
        eid, sms_id = _mo_with_callback(fleet, rx.url)
        clock = Clock()
        worker = CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings,
                                clock=clock)  # fmt: skip
        assert worker.run_once() == 1  # 503: retry in 10 s
        assert worker.run_once() == 0  # not due yet
        clock.advance(10)
        assert worker.run_once() == 1  # 200
        assert worker.run_once() == 0
    first, second = rx.received
    assert first.body == second.body  # identical bytes on every attempt
    sms = json.loads(second.body)
    assert sms["id"] == sms_id and sms["payload"] == "temp=21" and sms["sms_type"]["id"] == 2
    assert first.path == "/hook?token=t0p"
    assert first.headers["X-Linkplane-Delivery"] == second.headers["X-Linkplane-Delivery"]
    assert [r.headers["X-Linkplane-Attempt"] for r in rx.received] == ["1", "2"]
    token = second.headers["Authorization"].removeprefix("Bearer ")
    # Signed at the worker's (test) clock, 10 s ahead of this one.
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], issuer="linkplane", leeway=60)
    assert claims["body_sha256"] == hashlib.sha256(second.body).hexdigest()
    assert claims["delivery_id"] == _delivery(fleet, sms_id).id
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-" + "y" * 32, algorithms=["HS256"])
    row = _delivery(fleet, sms_id)
    assert row.state == "delivered" and row.attempts == 2
    seen = _callback_events(fleet, eid)
    assert [e["event_type"]["description"] for e in seen] == [
        "SMS callback failed", "SMS callback delivered"]  # fmt: skip
    assert seen[0]["detail"]["status_code"] == 503 and seen[0]["detail"]["next_attempt_at"]
    assert "token=t0p" not in json.dumps(seen)  # paths and queries may carry secrets
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


def test_unsigned_when_the_profile_has_no_secret(fleet: Fleet) -> None:
    with receiver([204]) as rx:
        _mo_with_callback(fleet, rx.url, secret=None)
        CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings).run_once()
    assert "Authorization" not in rx.received[0].headers


def test_client_errors_are_not_retried_and_server_errors_give_up(fleet: Fleet) -> None:
    with receiver([400]) as rx:
        eid, sms_id = _mo_with_callback(fleet, rx.url)
        clock = Clock()
        worker = CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings,
                                clock=clock)  # fmt: skip
        worker.run_once()
        assert _delivery(fleet, sms_id).state == "failed"
        assert "not retried" in _callback_events(fleet, eid)[-1]["description"]
    with receiver([500]) as rx:
        eid, sms_id = _mo_with_callback(fleet, rx.url)
        clock.now = utcnow()
        for _ in range(5):
            worker.run_once()
            clock.advance(3600)
        row = _delivery(fleet, sms_id)
        assert row.state == "failed" and row.attempts == 3 and len(rx.received) == 3
        assert "given up" in _callback_events(fleet, eid)[-1]["description"]


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(fleet: Fleet) -> None:
    eid, sms_id = _mo_with_callback(fleet, "https://hooks.example.com/sms")
    sender = HttpSender(allowed=(), timeout=2, resolver=_resolver("10.9.9.9"))
    CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings,
                   sender=sender.send).run_once()  # fmt: skip
    assert _delivery(fleet, sms_id).state == "failed"
    last = _callback_events(fleet, eid)[-1]
    assert "resolves to no public address" in last["description"]


class Crash(BaseException):
    """The worker process dies (after the request went out, before its outcome is stored)."""


def test_a_crashed_workers_delivery_is_taken_over_after_its_lease(fleet: Fleet) -> None:
    with receiver([200]) as rx:
        _eid, sms_id = _mo_with_callback(fleet, rx.url)
        clock = Clock()
        real = HttpSender(allowed=urls.parse_allowed(LOCAL), timeout=5).send

        def send_then_die(url: str, headers: dict[str, str], body: bytes) -> Any:
            real(url, headers, body)
            raise Crash

        dying = CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings,
                               sender=send_then_die, clock=clock, owner="a")  # fmt: skip
        with pytest.raises(Crash):
            dying.run_once()
        other = CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings,
                               clock=clock, owner="b")  # fmt: skip
        assert other.run_once() == 0  # still leased to the dead worker
        clock.advance(3 * 5 + 31)
        assert other.run_once() == 1
    assert len(rx.received) == 2  # at least once: the receiver de-duplicates
    assert len({r.headers["X-Linkplane-Delivery"] for r in rx.received}) == 1
    row = _delivery(fleet, sms_id)
    assert row.state == "delivered" and row.attempts == 1 and row.lease_owner is None


def test_removing_the_callback_cancels_pending_deliveries(fleet: Fleet) -> None:
    eid, sms_id = _mo_with_callback(fleet, "https://hooks.example.com/sms")
    sp = fleet.get(f"/api/v1/endpoint/{eid}").json()["service_profile"]["id"]
    fleet.patch(f"/api/v1/service_profile/{sp}", {"api_callback": {"id": None}})
    CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings).run_once()
    assert _delivery(fleet, sms_id).state == "canceled"
    assert "canceled" in _callback_events(fleet, eid)[-1]["description"]


# --- durable across restarts: real worker processes ------------------------------------------


def _worker_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LINKPLANE_CALLBACK_ALLOWED_CIDRS": LOCAL,
           "LINKPLANE_CALLBACK_BACKOFF_BASE_SECONDS": "0.3",
           "LINKPLANE_CALLBACK_POLL_SECONDS": "0.1"}  # fmt: skip
    cmd = [sys.executable, "-m", "linkplane", "callbacks", "worker",
           "--data-dir", str(settings.data_dir)]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(fleet: Fleet, sms_id: int, done: Any, what: str) -> CallbackDelivery:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = _delivery(fleet, sms_id)
        if done(row):
            return row
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {_delivery(fleet, sms_id).__dict__}")


def test_deliveries_survive_a_killed_worker_process(fleet: Fleet) -> None:
    with receiver([503]) as rx:
        eid, sms_id = _mo_with_callback(fleet, rx.url)
        first = _worker_process(fleet.ctx.settings)
        try:
            _wait_for(fleet, sms_id, lambda r: r.attempts >= 2, "two failed attempts")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        assert _delivery(fleet, sms_id).state == "pending"
        rx.statuses = [200]
        second = _worker_process(fleet.ctx.settings)
        try:
            row = _wait_for(fleet, sms_id, lambda r: r.state == "delivered", "delivery")
        finally:
            second.send_signal(signal.SIGTERM)
            _out, err = second.communicate(timeout=30)
        assert second.returncode == 0, err.decode()[-2000:]
    assert rx.received[-1].headers["X-Linkplane-Attempt"] == str(row.attempts)
    assert len(_callback_events(fleet, eid)) == row.attempts  # one event per attempt


def test_proxies_from_the_environment_are_not_used(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would resolve the name itself, undoing the vetted address: connect direct."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with receiver([200]) as rx:
        _eid, sms_id = _mo_with_callback(fleet, rx.url)
        CallbackWorker(factory=fleet.ctx.sessionmaker, settings=fleet.ctx.settings).run_once()
    assert len(rx.received) == 1 and _delivery(fleet, sms_id).state == "delivered"
