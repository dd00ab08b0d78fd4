"""Opening a data directory: settings, migrated database, and what ``linkplane up`` runs.

``linkplane up`` writes ``runtime.json`` into its data directory (the embedded cloud's and the
API's addresses), so provider-side commands given the same ``--data-dir`` work while it runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from linkplane.db import make_engine, make_sessionmaker, migrate, private_dir
from linkplane.settings import Settings

RUNTIME_FILE = "runtime.json"


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def read_runtime(data_dir: Path) -> dict[str, Any]:
    path = data_dir / RUNTIME_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_runtime(data_dir: Path, info: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (RUNTIME_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(data_dir / RUNTIME_FILE)


def clear_runtime(data_dir: Path) -> None:
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, the data directory's runtime file, then overrides.

    The runtime file of a running ``linkplane up`` (its embedded cloud) is consulted for a
    data directory given explicitly, or the default one of a SQLite installation; with
    ``LINKPLANE_DATABASE_URL`` and no ``--data-dir`` everything comes from the environment,
    whatever an old ``up`` left in the default directory.
    """
    base = Settings()
    if data_dir is not None:
        base = base.model_copy(update={"data_dir": data_dir})
    consult = data_dir is not None or not base.database_url
    runtime = read_runtime(base.data_dir) if consult else {}
    update: dict[str, Any] = {}
    if not base.aws_endpoint_url and runtime.get("cloud_endpoint"):
        update["aws_endpoint_url"] = runtime["cloud_endpoint"]
        update["cloud"] = "embedded"
    update.update({k: v for k, v in overrides.items() if v is not None})
    return base.model_copy(update=update) if update else base


def open_context(settings: Settings, **pool: int) -> AppContext:
    """Open (and migrate) the database of ``settings``; the data directory is made private;
    ``pool``: sizes for :func:`~linkplane.db.make_engine` (the small default suits a CLI
    command)."""
    private_dir(settings.data_dir)
    engine = make_engine(settings.effective_database_url, **pool)
    migrate(engine, signing_key=settings.signing_key)
    return AppContext(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))
