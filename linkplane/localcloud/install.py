"""Installs linkplane's extension into moto, once per process, before any request is served.

moto builds a server's routes on the first request to a service, and its backends are
created lazily, so :func:`install` must run before either; it is idempotent.
"""

from __future__ import annotations

import threading

from linkplane.localcloud import footprint

_lock = threading.Lock()
_installed = False


def install() -> None:
    # Every call (not only the first): a backend created after a test or caller unset it
    # would load the catalogue again.
    footprint.no_default_amis()
    global _installed
    with _lock:
        if _installed:
            return
        from linkplane.localcloud import ec2_ext, ram_ext, throttle

        footprint.untrack_models()
        ram_ext.install()
        ec2_ext.install()
        throttle.install()
        _installed = True
