"""Serving the embedded cloud over HTTP on a local address."""

from __future__ import annotations

import errno
import socket
import threading
from dataclasses import dataclass

from linkplane.errors import InvalidInput
from linkplane.localcloud.install import install


@dataclass
class RunningCloud:
    host: str
    port: int
    _server: object
    _thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()  # type: ignore[attr-defined]
        self._server.server_close()  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join()


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


def start(host: str = "127.0.0.1", port: int = 0) -> RunningCloud:
    """Start the embedded cloud in a background thread; ``port=0`` picks a free port.

    The socket is bound here, in the caller's thread (moto's ThreadedMotoServer binds in its
    own thread and waits forever if that fails; werkzeug exits the process), so a bad host or
    a busy port raises :class:`InvalidInput` naming the field.
    """
    if not 0 <= port <= 65535:
        raise InvalidInput(f"port {port} is not between 0 and 65535", field="port")
    install()
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    listener = _listen(host, port)
    app = DomainDispatcherApplication(create_backend_app)
    try:
        server = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
        )
    finally:
        listener.close()  # werkzeug works on its own duplicate of the descriptor
    thread = threading.Thread(target=server.serve_forever, name="localcloud", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    return RunningCloud(host=str(bound_host), port=int(bound_port), _server=server, _thread=thread)
