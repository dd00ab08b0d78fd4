"""Database and secret files are their owner's only: 0600 files in a 0700 data directory
(issue 13, low: they were created 0644 and hold password and token hashes)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.context import open_context
from linkplane.db import private_files
from linkplane.settings import Settings
from linkplane.tenancy import security


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The permissive umask the defect showed up under (restored afterwards)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_data_directory_is_private(tmp_path: Path, open_umask: None) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ctx = open_context(settings)
    try:
        security.signing_key(jwt_secret="", data_dir=settings.data_dir)
        with ctx.engine.connect() as conn:  # creates the -wal and -shm files
            conn.exec_driver_sql("SELECT 1")
            assert _mode(settings.data_dir) == 0o700
            for name in ("linkplane.db", "linkplane.db-wal", "linkplane.db-shm", "jwt_secret"):
                assert _mode(settings.data_dir / name) == 0o600, name
    finally:
        ctx.close()


def test_an_existing_open_data_directory_is_tightened(tmp_path: Path, open_umask: None) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "linkplane.db").touch(mode=0o644)
    open_context(Settings(data_dir=data)).close()
    assert _mode(data) == 0o700 and _mode(data / "linkplane.db") == 0o600


def test_processes_create_every_file_private(tmp_path: Path, open_umask: None) -> None:
    """serve, worker and up set umask 077 first, so files written by others (DBOS's
    database, snapshots, logs) are private too."""
    private_files()
    (tmp_path / "snapshot.json").write_text("{}")
    assert _mode(tmp_path / "snapshot.json") == 0o600
