"""Serving the embedded cloud over HTTP on a local address."""

from __future__ import annotations

import errno
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkplane.errors import InvalidInput
from linkplane.localcloud import snapshot
from linkplane.localcloud.install import install


@dataclass
class RunningCloud:
    host: str
    port: int
    _server: object
    _thread: threading.Thread | None = None
    #: What was restored from the data dir's snapshot (``Loaded()``: kept in memory only).
    loaded: snapshot.Loaded = field(default_factory=snapshot.Loaded)
    snapshots: snapshot.Snapshotter | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()  # type: ignore[attr-defined]
        self._server.server_close()  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join()
        if self.snapshots is not None:
            self.snapshots.stop()  # the last word: the state as the cloud stopped


def _bind_error(exc: OSError, host: str, port: int) -> InvalidInput:
    if exc.errno == errno.EADDRINUSE:
        return InvalidInput(f"port {port} on {host} is already in use", field="port")
    if exc.errno == errno.EACCES:
        return InvalidInput(f"no permission to listen on port {port}", field="port")
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return InvalidInput(f"cannot listen on host {host!r}: not a local address", field="host")
    return InvalidInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="host")


def _listen(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves: werkzeug prints and calls sys.exit when binding fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _bind_error(exc, host, port) from exc
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        raise _bind_error(exc, host, port) from exc
    return listener


@dataclass(frozen=True)
class Persistence:
    """Keep the cloud's state in ``data_dir`` (:mod:`linkplane.localcloud.snapshot`)."""

    data_dir: Path
    every_seconds: float

    @property
    def path(self) -> Path:
        return self.data_dir / snapshot.FILE_NAME


def start(host: str = "127.0.0.1", port: int = 0,
          persistence: Persistence | None = None) -> RunningCloud:  # fmt: skip
    """Start the embedded cloud in a background thread; ``port=0`` picks a free port.

    The socket is bound here, in the caller's thread (moto's ThreadedMotoServer binds in its
    own thread and waits forever if that fails; werkzeug exits the process), so a bad host or
    a busy port raises :class:`InvalidInput` naming the field. With ``persistence`` the state
    of the last snapshot is loaded before the first request, and written periodically and at
    :meth:`RunningCloud.stop`.
    """
    if not 0 <= port <= 65535:
        raise InvalidInput(f"port {port} is not between 0 and 65535", field="port")
    install()
    loaded = snapshot.Loaded()
    if persistence is not None:
        persistence.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        loaded = snapshot.load(persistence.path)
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    listener = _listen(host, port)
    app: Any = DomainDispatcherApplication(create_backend_app)
    gate = snapshot.Gate()
    if persistence is not None:
        app = gate.wrap(app)
    try:
        server = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
        )
    finally:
        listener.close()  # werkzeug works on its own duplicate of the descriptor
    thread = threading.Thread(target=server.serve_forever, name="localcloud", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    running = RunningCloud(host=str(bound_host), port=int(bound_port), _server=server,
                           _thread=thread, loaded=loaded)  # fmt: skip
    if persistence is not None:
        running.snapshots = snapshot.Snapshotter(persistence.path, gate, persistence.every_seconds)
        running.snapshots.start()
    return running
