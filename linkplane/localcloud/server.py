"""Serving the embedded cloud over HTTP on a local address."""

from __future__ import annotations

from dataclasses import dataclass

from linkplane.localcloud.install import install


@dataclass
class RunningCloud:
    host: str
    port: int
    _server: object

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.stop()  # type: ignore[attr-defined]


def start(host: str = "127.0.0.1", port: int = 0) -> RunningCloud:
    """Start the embedded cloud in a background thread; ``port=0`` picks a free port."""
    install()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return RunningCloud(host=bound_host, port=bound_port, _server=server)
