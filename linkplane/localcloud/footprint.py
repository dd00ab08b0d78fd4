"""Keeping the embedded cloud's memory proportional to what exists, not to what ever existed.

Two moto defaults made it grow without bound (measured with bench/bench_cloud_soak.py):

- every account's EC2 backend loads moto's AMI catalogue (~4 MiB per account and region);
- every model object moto ever created (``BaseModel``: VPCs, subnets, attachments, routes,
  shares, ...) is appended to a class-level ``instances_tracked`` list, for moto's web
  dashboard, and never removed: deleted resources stayed in memory forever.
"""

from __future__ import annotations

import os
from typing import Any

#: moto reads it whenever it creates an account's EC2 backend in a region.
DEFAULT_AMIS = "MOTO_EC2_LOAD_DEFAULT_AMIS"


def no_default_amis() -> None:
    """Keep moto from building its AMI catalogue in every account's EC2 backend.

    linkplane runs no instances. An explicit value in the environment wins: who needs the
    catalogue sets ``MOTO_EC2_LOAD_DEFAULT_AMIS=true``.
    """
    os.environ.setdefault(DEFAULT_AMIS, "false")


def untrack_models() -> None:
    """Stop moto from keeping a reference to every model object it creates.

    The list only feeds moto's dashboard (``/moto-api/``), which linkplane does not use; it
    shows no models from now on. Idempotent.
    """
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import model_data, reset_model_data

    def untracked_new(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(untracked_new)
    if model_data:
        reset_model_data()  # what was tracked before install (none in a fresh process)
