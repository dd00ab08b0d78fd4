"""Installs linkplane's extension into moto, once per process, before any request is served.

moto builds a server's routes on the first request to a service, and its backends are
created lazily, so :func:`install` must run before either; it is idempotent.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_installed = False

#: moto reads it whenever it creates an account's EC2 backend in a region.
DEFAULT_AMIS = "MOTO_EC2_LOAD_DEFAULT_AMIS"


def no_default_amis() -> None:
    """Keep moto from building its AMI catalogue (~4 MiB) in every account's EC2 backend.

    linkplane runs no instances, and thousands of customer accounts made the embedded cloud
    gigabytes large (bench/bench_cloud_soak.py). An explicit value in the environment wins:
    who needs the catalogue sets ``MOTO_EC2_LOAD_DEFAULT_AMIS=true``.
    """
    os.environ.setdefault(DEFAULT_AMIS, "false")


def install() -> None:
    # Every call (not only the first): a backend created after a test or caller unset it
    # would load the catalogue again.
    no_default_amis()
    global _installed
    with _lock:
        if _installed:
            return
        from linkplane.localcloud import ec2_ext, ram_ext, throttle

        ram_ext.install()
        ec2_ext.install()
        throttle.install()
        _installed = True
