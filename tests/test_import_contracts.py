"""The import contracts of pyproject.toml (checked by ``lint-imports`` in ``make test``) stay
complete: a top-level package added later is forbidden to ``network/`` too, and the
contracts are the ones the architecture names."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path
from typing import Any

import linkplane

ROOT = Path(__file__).resolve().parent.parent


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _top_level() -> set[str]:
    return {f"linkplane.{m.name}" for m in pkgutil.iter_modules(linkplane.__path__)
            if m.name != "__main__"}  # fmt: skip


def test_network_may_import_nothing_of_linkplane_but_itself_and_errors() -> None:
    forbidden = set(_contracts()["network-pure"]["forbidden_modules"])
    allowed = {"linkplane.network", "linkplane.errors"}
    assert _top_level() - allowed <= forbidden, "add the new package to network-pure"


def test_the_contracts_the_architecture_names_are_there() -> None:
    contracts = _contracts()
    assert set(contracts) == {"network-pure", "localcloud-not-product", "domain-no-transport",
                              "durable-below-features", "no-cycles"}  # fmt: skip
    features = {"linkplane.attachments", "linkplane.tenancy", "linkplane.isolation"}
    assert features <= set(contracts["localcloud-not-product"]["forbidden_modules"])
    assert features <= set(contracts["durable-below-features"]["forbidden_modules"])
    assert {"fastapi", "boto3", "linkplane.api"} <= set(
        contracts["domain-no-transport"]["forbidden_modules"]
    )
    assert "linkplane.durable" in contracts["no-cycles"]["ancestors"]
