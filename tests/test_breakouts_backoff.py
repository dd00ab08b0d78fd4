"""A waiting breakout's own polls (linkplane.attachments.workflows.tgw): with the shared watch
on they are a fallback that starts late and backs off far (issue 15: 10,000 parked breakouts
polling every 300 s were 33 reads/s, over the RAM read budget); without it, the plain backoff."""

from __future__ import annotations

import asyncio

import pytest

from linkplane.attachments.workflows import tgw
from linkplane.settings import Settings


def _timeouts(monkeypatch: pytest.MonkeyPatch, settings: Settings, polls: int) -> list[float]:
    """The recv timeouts of ``polls`` waits in which no message comes."""
    seen: list[float] = []

    async def recv(topic: str, timeout_seconds: float) -> None:
        seen.append(timeout_seconds)

    monkeypatch.setattr(tgw.DBOS, "recv_async", recv)
    backoff = tgw._watched_backoff(settings)
    for _ in range(polls):
        asyncio.run(backoff.wait(0.0, 1e9))
    return seen


def test_with_the_watch_on_own_polls_start_late_and_back_off_past_the_plain_maximum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(breakout_watch_interval_seconds=5.0, breakout_poll_max_seconds=300.0,
                        breakout_watched_poll_max_seconds=1800.0)  # fmt: skip
    assert _timeouts(monkeypatch, settings, 8) == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_without_the_watch_own_polls_keep_the_plain_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(breakout_watch_interval_seconds=0, breakout_poll_initial_seconds=1.0,
                        breakout_poll_max_seconds=300.0)  # fmt: skip
    assert _timeouts(monkeypatch, settings, 11) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_a_wake_brings_the_next_poll_back_to_the_initial_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[float] = []
    messages = iter([None, None, tgw.WAKE, None])

    async def recv(topic: str, timeout_seconds: float) -> str | None:
        seen.append(timeout_seconds)
        return next(messages)

    monkeypatch.setattr(tgw.DBOS, "recv_async", recv)
    backoff = tgw._watched_backoff(Settings(breakout_watch_interval_seconds=5.0))
    for _ in range(4):
        asyncio.run(backoff.wait(0.0, 1e9))
    assert seen == [30, 60, 120, 1.0]
