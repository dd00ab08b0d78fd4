"""Shared fixtures: a settings object and a migrated database in a temporary data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.context import AppContext, open_context
from linkplane.settings import Settings
from tests.pgdb import own_database

POSTGRES_URL = os.environ.get("LINKPLANE_TEST_POSTGRES_URL", "")

# The portal's fixtures (live server, headless Chromium, signed-in clients).
pytest_plugins = ["tests.portal.harness", "tests.portal.client", "tests.portal.cloud"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = open_context(settings)
    yield context
    context.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (``linkplane_test_<random>``),
    dropped afterwards; skips when LINKPLANE_TEST_POSTGRES_URL is unset."""
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL not configured: set LINKPLANE_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    with own_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on SQLite, then on PostgreSQL (skipped when not configured): a test using
    this runs on both. The PostgreSQL database is shared by the session: use unique names."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "data")
    url: str = request.getfixturevalue("postgres_url")
    return Settings(data_dir=tmp_path / "data", database_url=url)
