"""Workflow starts handed to a thread (``durable.client.BackgroundStarts``): none is lost,
signals never overtake their start, and a failed start is left to the sweep."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from linkplane.durable.client import BackgroundStarts


class Recorder:
    """An inner client that records calls; ``gate`` holds every start until it is set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_ids: set[str] = set()
        self.closed = False

    def start(self, workflow: str, workflow_id: str, *args: Any) -> None:
        self.gate.wait(10)
        if workflow_id in self.fail_ids:
            raise ConnectionError("database is unreachable")
        self.calls.append(("start", workflow_id))

    def send(self, workflow_id: str, message: str, topic: str) -> None:
        self.calls.append(("send", workflow_id, message))

    def states(self, workflow_ids: list[str]) -> dict[str, str]:
        self.calls.append(("states", *workflow_ids))
        return {w: "PENDING" for w in workflow_ids}

    def close(self) -> None:
        self.closed = True


def test_start_returns_before_the_start_is_made_and_every_start_is_made() -> None:
    inner = Recorder()
    inner.gate.clear()
    client = BackgroundStarts(inner)
    for k in range(50):
        client.start("breakout.provision", f"breakout-{k}-1", k, 1)
    assert client.pending() == 50 and inner.calls == []  # nobody waited for the database
    inner.gate.set()
    assert client.flush(timeout=10)
    assert inner.calls == [("start", f"breakout-{k}-1") for k in range(50)]  # in order
    client.close()


def test_a_signal_waits_for_the_starts_handed_in_before_it() -> None:
    inner = Recorder()
    inner.gate.clear()
    client = BackgroundStarts(inner)
    client.start("breakout.provision", "breakout-1-1", 1, 1)
    sender = threading.Thread(target=client.send, args=("breakout-1-1", "delete", "breakout"))
    sender.start()
    sender.join(0.2)
    assert sender.is_alive()  # held back: the workflow does not exist yet
    inner.gate.set()
    sender.join(10)
    assert inner.calls == [("start", "breakout-1-1"), ("send", "breakout-1-1", "delete")]
    assert client.states(["breakout-1-1"]) == {"breakout-1-1": "PENDING"}
    client.close()


def test_close_makes_the_pending_starts_and_closes_the_inner_client() -> None:
    inner = Recorder()
    inner.gate.clear()
    client = BackgroundStarts(inner)
    client.start("breakout.provision", "breakout-2-1", 2, 1)
    threading.Timer(0.1, inner.gate.set).start()
    client.close()
    assert inner.calls == [("start", "breakout-2-1")] and inner.closed
    with pytest.raises(RuntimeError, match="closed"):
        client.start("breakout.provision", "breakout-3-1", 3, 1)


def test_a_failed_start_does_not_stop_the_others() -> None:
    """The row is committed before its start: a refused start leaves it to the sweep
    (tests/test_breakouts_stranded.py shows the sweep starting rows never started)."""
    inner = Recorder()
    inner.fail_ids.add("breakout-4-1")
    client = BackgroundStarts(inner)
    client.start("breakout.provision", "breakout-4-1", 4, 1)
    client.start("breakout.provision", "breakout-5-1", 5, 1)
    assert client.flush(timeout=10)
    assert inner.calls == [("start", "breakout-5-1")]
    client.close()
