"""Validating linkplane's answers against emnify's published descriptions (jsonschema).

The descriptions live outside the repository (``../shared/reference/emnify-openapi`` next to
it, or ``LINKPLANE_EMNIFY_OPENAPI_DIR``); tests that use :func:`check` skip, naming the
directory, when they are not there.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(
    os.environ.get("LINKPLANE_EMNIFY_OPENAPI_DIR", ROOT.parent / "shared/reference/emnify-openapi")
)


@cache
def _paths() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Every path of every description, with the document it comes from."""
    if not SPEC_DIR.is_dir():
        pytest.skip(f"emnify OpenAPI descriptions not found in {SPEC_DIR} "
                    "(set LINKPLANE_EMNIFY_OPENAPI_DIR)")  # fmt: skip
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for file in sorted(SPEC_DIR.glob("*.yml")):
        doc = yaml.safe_load(file.read_text())
        for path, item in (doc.get("paths") or {}).items():
            found[path] = (doc, item)
    return found


def _deref(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    assert depth < 50, "recursive schema"
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            target = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
            return _deref(doc, target, depth + 1)
        return {k: _deref(doc, v, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_deref(doc, v, depth) for v in node]
    return node


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """The published JSON schema of one answer (``path`` as the description spells it)."""
    doc, item = _paths()[path]
    response = item[method.lower()]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    resolved: dict[str, Any] = _deref(doc, schema)
    return resolved


def check(method: str, path: str, status: int, body: Any) -> None:
    """Fail with jsonschema's message when ``body`` does not conform."""
    validator = Draft202012Validator(response_schema(method, path, status),
                                     format_checker=FormatChecker())  # fmt: skip
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{method} {path} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
    )
