"""API throttling as AWS documents it for EC2, and one-shot fault injection, for the embedded cloud.

Throttling: a token bucket per (service, account, region, action class). Non-mutating
actions (``Describe*``, ``Search*``, ``Get*``, ``List*``) share a bucket of 100 refilled at
20/s; mutating actions one of 50 refilled at 5/s (the EC2 documentation's defaults; RAM uses
the same numbers here, AWS does not publish its own). A refused EC2 call fails with HTTP 503
``RequestLimitExceeded`` in EC2's XML error shape; a refused RAM call with HTTP 429
``ThrottlingException``. Off by default; on with ``LINKPLANE_CLOUD_THROTTLING=1`` at install
or :func:`configure` at runtime. STS and other services are never throttled.

Faults: :func:`inject_fault` makes the next N calls of one action fail with a given error,
whether throttling is on or not, for fault-injection tests of workflows; ``match`` narrows a
fault to requests whose parameters mention a text (an account id, a resource id), so tests
sharing one cloud do not steal each other's faults. :func:`inject_disconnect` makes calls
fail at the connection level instead (the server closes the socket without answering, as a
dropped connection or an expired timeout looks to the client); it needs the HTTP server.

Both act in ``BaseResponse.call_action``, the one method every moto service request passes
through, wrapped at :func:`install`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape

ENV = "LINKPLANE_CLOUD_THROTTLING"
NON_MUTATING = "non-mutating"
MUTATING = "mutating"
_READ_PREFIXES = ("Describe", "Search", "Get", "List")
_ERRORS = {"ec2": ("RequestLimitExceeded", 503), "ram": ("ThrottlingException", 429)}


@dataclass(frozen=True)
class Rate:
    """A bucket of ``capacity`` tokens refilled at ``refill_per_second``."""

    capacity: float
    refill_per_second: float


@dataclass
class _Bucket:
    tokens: float
    stamp: float

    def take(self, rate: Rate, now: float) -> bool:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(rate.capacity, self.tokens + elapsed * rate.refill_per_second)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class _Fault:
    error_code: str
    http_status: int
    remaining: int
    message: str
    account_id: str | None
    match: str | None = None
    disconnect: bool = False
    #: Matching calls let through before the fault strikes (e.g. a plan's second gateway).
    passes: int = 0


@dataclass
class _State:
    enabled: bool = False
    rates: dict[str, Rate] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    buckets: dict[tuple[str, str, str, str], _Bucket] = field(default_factory=dict)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)


DEFAULT_RATES = {NON_MUTATING: Rate(100, 20), MUTATING: Rate(50, 5)}
_lock = threading.Lock()


def _initial() -> _State:
    return _State(enabled=os.environ.get(ENV) == "1", rates=dict(DEFAULT_RATES))


_state = _initial()


def configure(
    *,
    enabled: bool | None = None,
    non_mutating: Rate | None = None,
    mutating: Rate | None = None,
    clock: Callable[[], float] | None = None,
) -> None:
    """Change throttling at runtime; arguments left None keep their value. Buckets restart full."""
    with _lock:
        if enabled is not None:
            _state.enabled = enabled
        if non_mutating is not None:
            _state.rates[NON_MUTATING] = non_mutating
        if mutating is not None:
            _state.rates[MUTATING] = mutating
        if clock is not None:
            _state.clock = clock
        _state.buckets.clear()


def reset() -> None:
    """Defaults: throttling as the environment says, AWS rates, real clock, no faults."""
    global _state
    with _lock:
        _state = _initial()


def inject_fault(
    action: str,
    error_code: str,
    http_status: int = 500,
    times: int = 1,
    *,
    message: str = "Injected fault",
    account_id: str | None = None,
    match: str | None = None,
    after: int = 0,
) -> None:
    """Make the next ``times`` calls of ``action`` (its AWS name, such as
    ``AcceptResourceShareInvitation``) fail with ``error_code`` and ``http_status``; only
    calls by ``account_id`` if it is given, only calls whose parameters contain ``match`` if
    that is given; the first ``after`` such calls succeed."""
    with _lock:
        fault = _Fault(error_code, http_status, times, message, account_id, match,
                       passes=after)  # fmt: skip
        _state.faults.setdefault(action, []).append(fault)


def inject_disconnect(
    action: str, times: int = 1, *, account_id: str | None = None, match: str | None = None
) -> None:
    """Make the next ``times`` calls of ``action`` lose their connection: the server closes
    the socket without a response (botocore raises ``ConnectionClosedError``). The action is
    not performed, as when a request is lost before AWS processes it."""
    with _lock:
        fault = _Fault("InternalError", 500, times, "Connection dropped", account_id, match, True)
        _state.faults.setdefault(action, []).append(fault)


def pending_faults() -> dict[str, int]:
    """Injected failures not yet served, per action (tests check every fault was hit)."""
    with _lock:
        left = {a: sum(f.remaining for f in fs) for a, fs in _state.faults.items()}
    return {action: n for action, n in left.items() if n}


def action_class(action: str) -> str:
    return NON_MUTATING if action.startswith(_READ_PREFIXES) else MUTATING


def _take_fault(action: str, account_id: str, params: str) -> _Fault | None:
    for fault in _state.faults.get(action, []):
        if fault.match is not None and fault.match not in params:
            continue
        if fault.remaining > 0 and fault.account_id in (None, account_id):
            if fault.passes > 0:
                fault.passes -= 1
                return None
            fault.remaining -= 1
            return fault
    return None


def _throttled(service: str, account_id: str, region: str, action: str) -> bool:
    if not _state.enabled or service not in _ERRORS:
        return False
    kind = action_class(action)
    rate = _state.rates[kind]
    now = _state.clock()
    bucket = _state.buckets.setdefault(
        (service, account_id, region, kind), _Bucket(tokens=rate.capacity, stamp=now)
    )
    return not bucket.take(rate, now)


def refusal(
    service: str, account_id: str, region: str, action: str, params: str = ""
) -> _Fault | None:
    """The error this call must fail with, if any (consumes a fault or a token). ``params``
    is the request's parameters as text, for faults narrowed with ``match``."""
    with _lock:
        fault = _take_fault(action, account_id, params)
        if fault is not None:
            return fault
        if _throttled(service, account_id, region, action):
            code, status = _ERRORS[service]
            return _Fault(code, status, 0, "Request limit exceeded.", account_id)
    return None


def render(service: str, fault: _Fault) -> tuple[int, dict[str, str], str]:
    """The error response in the protocol botocore expects from ``service``."""
    code, message = escape(fault.error_code), escape(fault.message)
    if service == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>linkplane-local</RequestID></Response>"
        )
        return fault.http_status, {"Content-Type": "text/xml"}, body
    if service in ("ram",):
        headers = {"Content-Type": "application/json", "X-Amzn-ErrorType": fault.error_code}
        body = json.dumps({"__type": fault.error_code, "message": fault.message})
        return fault.http_status, headers, body
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
    )
    return fault.http_status, {"Content-Type": "text/xml"}, body


def _params(response: Any) -> str:
    """The request's parameters as one text: the body (JSON, or form-encoded and decoded here
    so ARNs match) and the query string."""
    body = response.body if isinstance(response.body, str) else ""
    return f"{unquote_plus(body)} {response.querystring}"


def _drop_connection() -> None:
    """Close the client's socket (werkzeug's server puts it in the WSGI environ of the Flask
    request being served); the response rendered afterwards goes nowhere. Outside a server
    (in-process mocks) there is no socket and the caller gets the rendered 500 instead, so
    such a fault is never silently ignored."""
    try:
        from flask import request

        sock = request.environ.get("werkzeug.socket")
    except (ImportError, RuntimeError):  # no Flask, or no request being served
        return
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def install() -> None:
    """Wrap ``BaseResponse.call_action`` once (``LINKPLANE_CLOUD_THROTTLING`` is read at import
    and by :func:`reset`)."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action
    if getattr(original, "_linkplane_throttle", False):
        return

    def call_action(self: Any) -> Any:
        service = str(self.service_name)
        account, region = str(self.current_account), str(self.region)
        fault = refusal(service, account, region, self._get_action(), _params(self))
        if fault is not None and fault.disconnect:
            _drop_connection()
        if fault is not None:
            return render(service, fault)
        return original(self)

    call_action._linkplane_throttle = True  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action
