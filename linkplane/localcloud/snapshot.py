"""The embedded cloud's state on disk: one snapshot file in the data dir, so a restart (or a
``kill -9``) of ``linkplane up`` or ``linkplane cloud serve --data-dir`` does not lose the
Transit Gateways, shares, invitations and attachments its breakouts stand on (issue 13,
item 7: an emptied cloud made waiting breakouts end as "rejected by the customer").

moto has no persistence of its own. Its state is plain Python objects, one backend per
(service, account, region); linkplane's TGW/RAM extension keeps its state on those same
objects (``ram_state.ledger_of``, the EC2 extension's attributes). A snapshot is therefore
the pickle of every backend of :data:`SERVICES`, taken in one ``pickle.dumps`` so that an
object shared between accounts (a cross-account attachment) stays one object when loaded.

- Consistent: taken while the :class:`Gate` holds requests back (no request half-applied).
- Atomic and private: written to a temporary file (0600), fsynced, renamed over the old one;
  a crash leaves the old snapshot or the new one, never a torn file.
- Versioned: the header names the snapshot format and the moto and Python versions. A
  snapshot of another version is not loaded (pickled classes may have changed shape); the
  caller is told why (:class:`Loaded`), starts empty, and says so.

Pickle runs code on load: the file is the process's own, in its own 0700 data directory,
and is read only from there.
"""

from __future__ import annotations

import gzip
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkplane.logs import get_logger

log = get_logger(__name__)

#: The file name inside the data dir.
FILE_NAME = "cloud-snapshot.pickle.gz"
#: Bump when what is pickled changes shape (not needed for moto upgrades: checked apart).
FORMAT = 1
#: moto services whose state is kept: EC2 (TGWs, VPCs, attachments, routes, VPN), RAM
#: (shares, invitations), and IAM/STS (assumed-role credentials name their account).
SERVICES = ("ec2", "ram", "iam", "sts")


def header() -> dict[str, Any]:
    import moto

    return {"format": FORMAT, "moto": moto.__version__,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}"}  # fmt: skip


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` found: ``restored`` backends, or why it started empty."""

    restored: int = 0
    #: Why a snapshot that exists was not used ("" when loaded, or when there was none).
    reset_reason: str = ""
    existed: bool = False


#: Actions that change nothing (AWS's own "non-mutating" prefixes): no snapshot needed.
READ_ONLY = ("Describe", "Get", "List", "Search")


def _action(environ: dict[str, Any]) -> str:
    """The AWS action of a request: the query protocol's ``Action`` (form body or query
    string; EC2, STS, IAM), else the REST path's last segment (RAM: ``/getresourceshares``).
    The body is read here and put back for moto."""
    import io
    from urllib.parse import parse_qs

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        found = parse_qs(source).get("Action")
        if found:
            return str(found[0])
    return str(environ.get("PATH_INFO", "")).rstrip("/").rsplit("/", 1)[-1]


def _mutating(environ: dict[str, Any]) -> bool:
    action = _action(environ).lower()
    return not action.startswith(tuple(p.lower() for p in READ_ONLY))


class Gate:
    """Requests pass in parallel; :meth:`exclusive` waits until none is in progress and
    holds new ones back meanwhile (a snapshot of a cloud at rest). :attr:`changes` counts
    requests that may have changed state, so an idle cloud is not snapshotted again."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False
        self.changes = 0

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            mutating = _mutating(environ)
            with self._cond:
                self._cond.wait_for(lambda: not self._closed)
                self._active += 1
                self.changes += mutating
            try:
                # moto answers with a complete body: consuming it here keeps it in the gate.
                result = app(environ, start_response)
                try:
                    return list(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

        return gated

    def exclusive(self, fn: Callable[[], Any]) -> Any:
        with self._cond:
            self._cond.wait_for(lambda: not self._closed)
            self._closed = True
            self._cond.wait_for(lambda: self._active == 0)
        try:
            return fn()
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()


def _backend_dicts() -> dict[str, Any]:
    from moto.backends import get_backend

    return {service: get_backend(service) for service in SERVICES}


def capture() -> bytes:
    """Every backend of :data:`SERVICES`, pickled together (call with requests held back)."""
    state = {
        service: [(account, region, backend)
                  for account, per_account in list(dict.items(backends))
                  for region, backend in list(dict.items(per_account))]
        for service, backends in _backend_dicts().items()
    }  # fmt: skip
    return pickle.dumps({"header": header(), "state": state}, protocol=pickle.HIGHEST_PROTOCOL)


def write(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` (gzip), readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb",
                                                       compresslevel=1) as out:  # fmt: skip
            out.write(data)
            out.flush()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load(path: Path) -> Loaded:
    """Install the snapshot at ``path`` into moto, before the cloud serves its first request.

    Never raises for a bad snapshot: the cloud then starts empty and :attr:`Loaded.reset_reason`
    says why, for the caller to report (and to end what stood on the lost state)."""
    if not path.exists():
        return Loaded()
    reason = ""
    try:
        with gzip.open(path, "rb") as src:
            snap = pickle.loads(src.read())  # noqa: S301 - our own 0600 file (module doc)
    except Exception as exc:  # unreadable, truncated by hand, classes gone: start empty
        reason = f"the snapshot could not be read ({type(exc).__name__}: {exc})"
    else:
        found, expected = snap.get("header"), header()
        if found != expected:
            reason = f"the snapshot was written by another version ({found}; this is {expected})"
    if reason:
        # Kept aside, not overwritten by the next snapshot: a downgrade can still use it.
        kept = path.with_name(path.name + ".rejected")
        path.replace(kept)
        return Loaded(existed=True, reset_reason=f"{reason}; kept as {kept}")
    restored = 0
    for service, backends in _backend_dicts().items():
        for account, region, backend in snap["state"].get(service, []):
            dict.__setitem__(backends[account], region, backend)
            restored += 1
    return Loaded(restored=restored, existed=True)


class Snapshotter:
    """Writes the snapshot every ``every`` seconds and once more at :meth:`stop`."""

    def __init__(self, path: Path, gate: Gate, every: float) -> None:
        self.path, self._gate, self._every = path, gate, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cloud-snapshot", daemon=True)
        self.writes = 0
        self._saved = -1

    def start(self) -> None:
        self._thread.start()

    def save(self) -> None:
        data, changes = self._gate.exclusive(lambda: (capture(), self._gate.changes))
        write(self.path, data)
        self._saved = changes
        self.writes += 1

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            if self._gate.changes == self._saved and self.path.exists():
                continue  # nothing changed since the last snapshot: no pause, no write
            try:
                self.save()
            except Exception as exc:  # a failed write must not stop the next one
                log.error("cloud_snapshot_failed", path=str(self.path), error=str(exc))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.save()
