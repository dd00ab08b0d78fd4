"""Shared fixtures: a settings object and a migrated database in a temporary data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.context import AppContext, open_context
from linkplane.settings import Settings

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
