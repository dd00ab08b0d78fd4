"""The core gateway: the ruleset file (written atomically) and ``nft -f`` where it runs.

``nft -f`` of our file is itself atomic (the file deletes and re-creates table
``inet linkplane_core`` in one transaction), and the file is replaced by rename, so a reader
or a crash never sees half a policy. The gateway is a network namespace on this host
(setting ``core_gateway_netns``, or the lab's core namespace while ``linkplane lab`` is up);
with neither, only the file is written (for an operator's deployment tooling to ship).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from linkplane.errors import LinkplaneError
from linkplane.network.policy import CorePolicy, parse_ruleset
from linkplane.settings import Settings

LAB_STATE = Path("lab") / "state.json"
T = TypeVar("T")


class PolicyApplyError(LinkplaneError):
    code = "policy_apply_failed"


def policy_path(settings: Settings) -> Path:
    return settings.data_dir / "policy" / "core.nft"


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by rename of a synced temporary file in the same directory (a unique
    one: several workers may write at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    Path(name).replace(path)


_apply_lock = threading.Lock()


class Coalescer(Generic[T]):
    """Callers of a whole-state recomputation that ask while another waits or runs share the
    next run that *starts* after they asked (a group commit).

    Every breakout that changes routing asks for the core policy once; each run reads the whole
    fleet, so N changes in flight made N runs of O(N): quadratic in N (14% of the engine's
    time already at N = 100, py-spy). A run that starts after a caller asked reads everything
    the caller committed before asking, so its result is the caller's too. Callers serialise
    runs themselves (the apply lock); this only counts tickets. A run that raises covers
    nobody.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked = 0
        self._covered = 0
        self._result: T | None = None

    @property
    def asked(self) -> int:
        return self._asked

    def ask(self) -> int:
        with self._lock:
            self._asked += 1
            return self._asked

    def done_for(self, ticket: int) -> T | None:
        """The result of a run that started after ``ticket`` was asked, if one finished."""
        with self._lock:
            return self._result if self._covered >= ticket else None

    def run(self, fn: Callable[[], T]) -> T:
        with self._lock:
            start = self._asked
        result = fn()
        with self._lock:
            if start > self._covered:
                self._covered, self._result = start, result
        return result


@contextmanager
def apply_lock(settings: Settings) -> Iterator[None]:
    """One policy applier at a time, across the threads and processes of a data directory,
    so the policy computed last from the database is also the one written and loaded last."""
    path = policy_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _apply_lock, open(path.with_name(".apply.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_applied(settings: Settings) -> CorePolicy | None:
    """The policy last written for the gateway, or None before the first one."""
    path = policy_path(settings)
    return parse_ruleset(path.read_text()) if path.exists() else None


def gateway_netns(settings: Settings) -> str:
    """The namespace to load the policy into ("" = nowhere): the setting, else the lab's."""
    if settings.core_gateway_netns:
        return settings.core_gateway_netns
    state = settings.data_dir / LAB_STATE
    if state.exists():
        core: str = json.loads(state.read_text()).get("core_netns", "")
        return core
    return ""


def load(netns: str, path: Path) -> None:
    """``nft -f path`` inside ``netns``; raises PolicyApplyError with nft's message."""
    cmd = ["ip", "netns", "exec", netns, "nft", "-f", str(path)]
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, our own file path
            cmd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PolicyApplyError(f"cannot run nft in namespace {netns}: {exc}") from exc
    if done.returncode != 0:
        raise PolicyApplyError(
            f"nft -f {path} in namespace {netns} failed: {done.stderr.strip()[:500]}"
        )
