"""The cloud port per region, as workflow steps and the watcher get it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from linkplane.cloud.port import CloudPort
from linkplane.cloud.ratelimit import Limiter
from linkplane.settings import Settings

CloudFactory = Callable[[str], CloudPort]


class RegionClouds:
    """One AWS adapter per region, shared by every step of this process for a while.

    Building an adapter costs a boto3 session, its clients and (embedded cloud) an STS
    assume-role: when every step built its own, that was a quarter of the engine's CPU with
    300 breakouts waiting. The adapter is thread-safe (boto3 clients are; the session is
    made under a lock). It is rebuilt after ``ttl`` seconds so credentials an assume-role
    handed out are renewed, and on :meth:`clear` (the embedded cloud was reset).
    """

    def __init__(self, make: CloudFactory, ttl: float) -> None:
        self._make, self._ttl = make, ttl
        self._ports: dict[str, tuple[CloudPort, float]] = {}
        self._lock = threading.Lock()

    def __call__(self, region: str) -> CloudPort:
        now = time.monotonic()
        with self._lock:
            cached = self._ports.get(region)
            if cached is not None and now - cached[1] < self._ttl:
                return cached[0]
        port = self._make(region)  # outside the lock: no I/O happens here anyway
        with self._lock:
            self._ports[region] = (port, now)
        return port

    def clear(self) -> None:
        with self._lock:
            self._ports.clear()


def step_clouds(settings: Settings, limiter: Limiter | None = None) -> RegionClouds:
    """Adapters for workflow steps: the settings' retry policy per AWS call (the one retry
    layer, see :mod:`linkplane.durable.steps`) and the runtime's rate limiter."""

    def make(region: str) -> CloudPort:
        from linkplane.cloud.factory import make_cloud

        return make_cloud(settings, region, limiter=limiter)

    return RegionClouds(make, settings.cloud_adapter_ttl_seconds)
