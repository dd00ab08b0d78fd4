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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from linkplane.errors import LinkplaneError
from linkplane.network.policy import CorePolicy, parse_ruleset
from linkplane.settings import Settings

LAB_STATE = Path("lab") / "state.json"


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
