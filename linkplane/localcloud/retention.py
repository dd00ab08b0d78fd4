"""How long the embedded cloud keeps what was deleted, and then frees it.

AWS lists deleted resources for a while, then forgets them: "rejected, failed and deleted
attachments remain visible for about two hours" (TGW guide), and a deleted RAM share shows
status ``DELETED`` for a while too. moto 5.2.5 never forgets anything: every deleted share
(with its invitations, associations, tags and the idempotency records of the calls that
made and ended it) and every deleted attachment stayed in memory, so create/delete churn
grew the cloud by ~8 KiB of Python objects (~25 KiB RSS) per breakout cycle, without end.

The embedded cloud keeps each for :func:`window` (AWS's two hours by default;
``LINKPLANE_CLOUD_RETENTION_SECONDS`` shortens it, e.g. for a soak benchmark), then frees it
on the next create in the same backend: attachments and client tokens at most once per
:data:`EVERY` per backend (a create need not scan every attachment of a busy gateway),
deleted shares at every ``CreateResourceShare`` (one pass over the owner's share list,
which moto's own reads walk anyway).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

ENV = "LINKPLANE_CLOUD_RETENTION_SECONDS"
#: AWS's documented window for deleted TGW attachments; used for RAM shares too.
DEFAULT = timedelta(hours=2)
#: The least time between two reaps of one backend.
EVERY = timedelta(seconds=30)
_LAST = "_linkplane_last_reap"


def window() -> timedelta:
    """How long a deleted resource stays listed before it is freed."""
    raw = os.environ.get(ENV)
    return timedelta(seconds=float(raw)) if raw else DEFAULT


def due(owner: Any, now: datetime) -> bool:
    """True (and remember ``now``) when ``owner``'s last reap is :data:`EVERY` ago."""
    last: datetime | None = getattr(owner, _LAST, None)
    if last is not None and now - last < min(EVERY, window()):
        return False
    setattr(owner, _LAST, now)
    return True
