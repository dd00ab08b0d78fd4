"""A PostgreSQL database of a test's own, dropped afterwards.

The session's shared database (the ``postgres_url`` fixture) suits tests that use unique
names; a test that reads whole tables, or whose values (CIDRs, accounts) must not meet other
tests' rows, takes a database of its own from here."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def own_database(url: str, prefix: str = "linkplane_test") -> Iterator[str]:
    """Create ``<prefix>_<random>`` on the server of ``url`` and yield its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
