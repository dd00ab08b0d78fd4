"""Watching a breakout through the API until it settles: what ``--wait`` shows.

Pure presentation over the API's breakout body (a dict, as any client sees it): the one-line
state, what the customer (or linkplane) has to do next, and the outcome. :func:`watch` polls
``GET /api/v1/cnc/breakout/{id}`` and reports through a :class:`Display`, which on a terminal
keeps one spinner line updated and otherwise prints plain lines, one per change.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, TextIO

from linkplane.apiclient import ApiClient
from linkplane.errors import Conflict

ACTIVE, DEACTIVATED = 5, 7
SPINNER = "|/-\\"


class Outcome(IntEnum):
    """Exit codes of a wait: 0 only for the state the caller waited for."""

    REACHED = 0
    ENDED = 1  # a final state other than the awaited one (deactivated, expired)
    TIMED_OUT = 3


def _until(raw: str | None) -> str:
    if not raw:
        return ""
    when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    left = int((when - datetime.now(UTC)).total_seconds())
    if left <= 0:
        return f" (deadline {when:%Y-%m-%d %H:%M:%S} UTC passed)"
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    span = f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m" if hours else f"{rest}s"
    return f" by {when:%Y-%m-%d %H:%M:%S} UTC (in {span})"


#: Breakout types of IPsec VPNs: linkplane does every AWS step, the customer its router.
VPN_TYPE_IDS = frozenset({2, 3, 4})


def is_vpn(b: dict[str, Any]) -> bool:
    return (b.get("type") or {}).get("id") in VPN_TYPE_IDS


def _vpn_next_step(b: dict[str, Any]) -> str:
    """A VPN needs nothing from the customer in AWS: only its router's configuration."""
    status, res = b["status"]["id"], b.get("aws_resources") or {}
    if status == 1:
        return "linkplane is creating the customer gateway and the VPN connection; nothing to do"
    if status in (3, 4):
        return "linkplane is associating the VPN attachment and routing; nothing to do"
    if status in (6, 8):
        return "linkplane is removing the AWS resources; nothing to do"
    if status == ACTIVE:
        return (f"active: {', '.join(res.get('routes') or [])} routed to "
                f"{res.get('vpn_connection_id')}; configure {b.get('public_ip')} with "
                f"`linkplane breakout vpn-config {b['id']}`")  # fmt: skip
    return f"deactivated: {b.get('status_reason') or 'no reason recorded'}"


def next_step(b: dict[str, Any]) -> str:
    """Who has to act now, and how (the customer's steps name the AWS calls)."""
    if is_vpn(b):
        return _vpn_next_step(b)
    status, res = b["status"]["id"], b.get("aws_resources") or {}
    account, tgw = b["aws_account_id"], res.get("transit_gateway_id", "the transit gateway")
    if status == 2 and b.get("expired"):
        return f"expired: retry with `linkplane breakout retry {b['id']}`"
    if status == 1 and not res.get("resource_share_arn"):
        return "linkplane is sharing the transit gateway with the customer account"
    if status == 1:
        return (f"customer {account}: accept the RAM invitation for {tgw}"
                f"{_until(b.get('invitation_expiry_date'))}")  # fmt: skip
    if status == 2:
        return (f"customer {account}: attach a VPC ({', '.join(b['vpc_cidr'])}) to {tgw}"
                f"{_until(b.get('accept_attachment_expiry_date'))}")  # fmt: skip
    if status in (3, 4):
        return "linkplane is accepting the attachment and routing; nothing to do"
    if status in (6, 8):
        return "linkplane is removing the AWS resources; nothing to do"
    if status == ACTIVE:
        return f"active: {', '.join(res.get('routes') or [])} routed to {tgw}"
    return f"deactivated: {b.get('status_reason') or 'no reason recorded'}"


def summary(b: dict[str, Any]) -> str:
    s = b["status"]
    flag = ", expired" if b.get("expired") else ""
    return f"breakout {b['id']}: {s['id']} {s['description']}{flag}"


def settled(b: dict[str, Any], target: int) -> Outcome | None:
    """The outcome once ``b`` is in ``target`` or a state it cannot leave by itself."""
    status = b["status"]["id"]
    if status == target and not b.get("expired"):
        return Outcome.REACHED
    if status == DEACTIVATED or (status == 2 and b.get("expired")):
        return Outcome.ENDED
    return None


@dataclass
class Display:
    """Where progress goes: one updated spinner line on a TTY, plain lines otherwise."""

    out: TextIO
    tty: bool
    started: float = field(default_factory=time.monotonic)
    _spins: int = 0
    _dirty: bool = False

    def elapsed(self) -> str:
        return f"[{time.monotonic() - self.started:6.1f}s]"

    def line(self, text: str) -> None:
        if self._dirty:
            self.out.write("\r\x1b[2K")
            self._dirty = False
        self.out.write(f"{self.elapsed()} {text}\n")
        self.out.flush()

    def tick(self, text: str) -> None:
        if not self.tty:
            return
        self._spins += 1
        spin = SPINNER[self._spins % len(SPINNER)]
        self.out.write(f"\r\x1b[2K{spin} {self.elapsed()} {text}")
        self.out.flush()
        self._dirty = True


@dataclass
class Watch:
    client: ApiClient
    breakout_id: int
    display: Display
    target: int = ACTIVE
    timeout: float = 0.0  # 0: no limit
    poll_seconds: float = 0.5
    recheck_seconds: float = 5.0  # while waiting for the customer; 0: never
    sleep: Callable[[float], None] = time.sleep


def _get(w: Watch) -> dict[str, Any]:
    body: list[dict[str, Any]] = w.client.request("GET", f"/api/v1/cnc/breakout/{w.breakout_id}")
    return body[0]


def _recheck(w: Watch, b: dict[str, Any], last: float) -> float:
    """Ask the workflow to look now (instead of at its next backed-off poll)."""
    now = time.monotonic()
    waiting = b["status"]["id"] in (1, 2) and not b.get("expired")
    if not waiting or not w.recheck_seconds or now - last < w.recheck_seconds:
        return last
    with contextlib.suppress(Conflict):  # it moved on meanwhile; the next read shows where
        w.client.request("POST", f"/api/v1/cnc/breakout/{w.breakout_id}/recheck")
    return now


def watch(w: Watch) -> tuple[Outcome, dict[str, Any]]:
    """Report every change until the breakout settles (or the timeout); the last body."""
    seen_events, key, rechecked = 0, None, time.monotonic()
    while True:
        b = _get(w)
        for event in (b.get("history") or [])[seen_events:]:
            w.display.line(f"  {event['description']}")
        seen_events = len(b.get("history") or [])
        now_key = (b["status"]["id"], b.get("expired"), bool(b["aws_resources"].get(
            "resource_share_arn")), b.get("aws_transit_gateway_attachment_id"))  # fmt: skip
        if now_key != key:
            w.display.line(f"{summary(b)} - {next_step(b)}")
            key = now_key
        outcome = settled(b, w.target)
        if outcome is not None:
            return outcome, b
        if w.timeout and time.monotonic() - w.display.started > w.timeout:
            w.display.line(f"gave up waiting after {w.timeout:g}s; {summary(b)}")
            return Outcome.TIMED_OUT, b
        w.display.tick(f"{summary(b)} - {next_step(b)}")
        rechecked = _recheck(w, b, rechecked)
        w.sleep(w.poll_seconds)
