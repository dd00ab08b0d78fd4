"""Serving the HTTP application with uvicorn: one place for both roots that serve it."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from linkplane.errors import Conflict, InvalidInput


def bind(host: str, port: int, what: str, option: str) -> socket.socket:
    """A listening socket bound now, so a busy port is a clear error before anything starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(
            f"cannot listen on {host}:{port} for the {what} ({exc.strerror}); pass {option}",
            field=option.lstrip("-"),
        ) from exc
    return sock


def server(app: FastAPI, trusted_proxies: str) -> uvicorn.Server:
    """uvicorn believes ``X-Forwarded-*`` only from ``trusted_proxies`` (its own default
    trusts 127.0.0.1, so any local process or same-host proxy could choose its address).
    Our own log configuration (linkplane.logs) stays in place: log_config=None."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        log_config=None,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or "",
    )
    return uvicorn.Server(config)


class ApiThread:
    """uvicorn in a thread on a socket bound beforehand (``up``: the main thread waits for
    Ctrl-C/SIGTERM and stops everything in order)."""

    def __init__(self, app: FastAPI, sock: socket.socket, trusted_proxies: str) -> None:
        self._server = server(app, trusted_proxies)
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="api", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise Conflict("the API server did not start; see the log above")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()
