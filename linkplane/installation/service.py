"""The installation id: read once per database, overridable by a setting.

:func:`installation_id` is the one reader; the breakout workflows (plan loading), region
bootstrap and the audit use it.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from linkplane.errors import LinkplaneError
from linkplane.installation.models import Installation
from linkplane.settings import Settings

_cache: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


class MissingInstallationId(LinkplaneError):
    code = "missing_installation_id"


def installation_id(session: Session, settings: Settings) -> str:
    """``settings.installation_id`` when set, else the id stored in ``session``'s database.

    Cached per engine: the stored id never changes, and the workflows ask on every plan load.
    """
    if settings.installation_id:
        return settings.installation_id
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    cached = _cache.get(engine)
    if cached is None:
        cached = _cache[engine] = _stored(session)
    return cached


def _stored(session: Session) -> str:
    stmt = select(Installation.id).order_by(Installation.created_at, Installation.id).limit(1)
    found = session.scalar(stmt)
    if found is None:
        # Not regenerated silently: a new id would turn this installation's own resources
        # into another installation's (never repaired, never cleaned up).
        raise MissingInstallationId(
            "the database has no installation id (table installation is empty); restore it, "
            "or set LINKPLANE_INSTALLATION_ID to the id this installation's AWS resources carry"
        )
    return found
