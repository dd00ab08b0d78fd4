"""A waiting breakout's own polls (linkplane.attachments.workflows.tgw): with the shared watch
on they are a fallback that starts late and backs off far (issue 15: 10,000 parked breakouts
polling every 300 s were 33 reads/s, over the RAM read budget); without it, the plain backoff.

The intervals are read from the backoff itself (``delay``, ``advance``): patching DBOS's
``recv_async`` would also answer the waits of other workflows running in this process."""

from __future__ import annotations

from linkplane.attachments.workflows import tgw
from linkplane.settings import Settings


def _intervals(settings: Settings, messages: list[str | None]) -> list[float]:
    """The interval of each wait, when the waits end with ``messages`` (None: no message)."""
    backoff = tgw._watched_backoff(settings)
    seen = []
    for message in messages:
        seen.append(backoff.delay)
        backoff.advance(message)
    return seen


def test_with_the_watch_on_own_polls_start_late_and_back_off_past_the_plain_maximum() -> None:
    settings = Settings(breakout_watch_interval_seconds=5.0, breakout_poll_max_seconds=300.0,
                        breakout_watched_poll_max_seconds=1800.0)  # fmt: skip
    assert _intervals(settings, [None] * 8) == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_without_the_watch_own_polls_keep_the_plain_backoff() -> None:
    settings = Settings(breakout_watch_interval_seconds=0, breakout_poll_initial_seconds=1.0,
                        breakout_poll_max_seconds=300.0)  # fmt: skip
    assert _intervals(settings, [None] * 11) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]


def test_a_wake_brings_the_next_poll_back_to_the_initial_interval() -> None:
    settings = Settings(breakout_watch_interval_seconds=5.0, breakout_poll_initial_seconds=1.0)
    assert _intervals(settings, [None, None, tgw.WAKE, None]) == [30, 60, 120, 1.0]
