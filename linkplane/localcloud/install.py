"""Installs linkplane's extension into moto, once per process, before any request is served.

moto builds a server's routes on the first request to a service, and its backends are
created lazily, so :func:`install` must run before either; it is idempotent.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from linkplane.localcloud import ec2_ext, ram_ext, throttle

        ram_ext.install()
        ec2_ext.install()
        throttle.install()
        _installed = True
