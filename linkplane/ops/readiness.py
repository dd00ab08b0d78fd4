"""Readiness: can this process do its work now? The database, DBOS's system database, AWS.

Each check is cached for ``ttl`` seconds, so a load balancer probing every second costs one
AWS request per process every few seconds (a cheap ``DescribeRegions`` with short
timeouts), not one per probe. A failed check names what is wrong in words an operator can
act on; nothing here raises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort


@dataclass
class Check:
    """One dependency: ``probe`` returns on success and raises what is wrong otherwise."""

    name: str
    probe: Callable[[], None]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _result: tuple[float, str] | None = None

    def run(self, now: float, ttl: float, clock: Callable[[], float]) -> str:
        """"ok" or why not, from the cache when younger than ``ttl``."""
        with self._lock:
            if self._result is not None and now - self._result[0] < ttl:
                return self._result[1]
            self._result = (clock(), _outcome(self.probe))
            return self._result[1]


def _outcome(probe: Callable[[], None]) -> str:
    try:
        probe()
    except CloudError as exc:
        return f"unreachable: {exc.message}"
    except SQLAlchemyError as exc:
        # The driver's first line names host and cause (never the password).
        detail = (str(getattr(exc, "orig", None) or exc).splitlines() or [""])[0]
        return f"unavailable: {type(exc).__name__}: {detail[:300]}"
    return "ok"


class Readiness:
    def __init__(
        self, checks: list[Check], *, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._checks = checks
        self._ttl = ttl
        self._clock = clock

    def report(self) -> tuple[bool, dict[str, str]]:
        now = self._clock()
        results = {c.name: c.run(now, self._ttl, self._clock) for c in self._checks}
        return all(r == "ok" for r in results.values()), results


def database_check(engine: Engine) -> Check:
    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return Check("database", probe)


def workflow_database_check(engine: Engine) -> Check:
    """DBOS's system database answers and has its tables (``linkplane migrate`` made them)."""
    table = ("dbos." if engine.dialect.name == "postgresql" else "") + "workflow_status"

    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608 - a constant

    return Check("workflow_database", probe)


def aws_check(cloud: Callable[[], CloudPort]) -> Check:
    return Check("aws", lambda: cloud().check_reachable())


def standard(
    app_db: Engine, system_db: Engine, cloud: Callable[[], CloudPort], *, ttl: float
) -> Readiness:
    """The three checks every process kind answers ``/ready`` with."""
    return Readiness(
        [database_check(app_db), workflow_database_check(system_db), aws_check(cloud)], ttl=ttl
    )
