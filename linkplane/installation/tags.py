"""Whose an AWS resource is, by its ``linkplane:installation`` tag. Pure: no database, no AWS.

*Legacy* resources have no installation tag: made before installations had ids (a database
migrated to 0007 keeps what it created earlier, untagged and under the old names) or not
made by linkplane at all. Each caller decides what legacy means for it (docs/cloud-connect.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

#: Carried by every AWS resource linkplane creates (RAM shares, TGWs, TGW route tables, core
#: VPCs and attachments), and part of every look-up by tags.
TAG = "linkplane:installation"


class Owner(StrEnum):
    MINE = "mine"
    OTHER = "other"  # carries another installation's id: never adopt, judge or delete it
    LEGACY = "legacy"  # no installation tag at all


def owner_of(tags: Mapping[str, str], installation: str) -> Owner:
    tagged = tags.get(TAG)
    if tagged is None:
        return Owner.LEGACY
    return Owner.MINE if tagged == installation else Owner.OTHER
