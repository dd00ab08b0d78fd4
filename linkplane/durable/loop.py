"""A supervised periodic thread: the heartbeat, the watcher and the reconciler are each one.

Started and joined by whoever owns it (the runtime, for its services), never fire-and-forget.
A failing pass is logged and the next one runs on time: one bad pass must not end the loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from linkplane.logs import get_logger

log = get_logger(__name__)


class Periodic:
    """Calls ``tick`` every ``interval`` seconds (the first time after one interval) until
    :meth:`stop`."""

    def __init__(self, name: str, interval: float, tick: Callable[[], object],
                 join_timeout: float = 10) -> None:  # fmt: skip
        self.name, self.interval, self._tick = name, interval, tick
        self._join_timeout = join_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._join_timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._tick()
            except Exception:  # the next pass retries; see the module docstring
                log.exception("periodic pass failed", loop=self.name)
