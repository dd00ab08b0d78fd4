"""The published emnify API descriptions (12 OpenAPI files, 122 operations) as data.

Each response schema is made self-contained (its ``$ref``s inlined from its own file), so
it validates with plain jsonschema (OpenAPI 3.1 schemas are JSON Schema 2020-12).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

#: Where the descriptions are (the shared reference folder next to the repository).
SPEC_DIR = Path(os.environ.get(
    "LINKPLANE_EMNIFY_OPENAPI_DIR",
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "emnify-openapi",
))  # fmt: skip
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"{[^}]+}")


@dataclass(frozen=True)
class Operation:
    file: str
    method: str  # upper case
    path: str
    operation_id: str
    summary: str
    #: status code (str) -> response schema (None: no JSON body declared)
    responses: dict[str, dict[str, Any] | None] = field(hash=False, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, shape(self.path)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def shape(path: str) -> str:
    """A path template with its parameter names erased: ``/a/{x}/b`` -> ``/a/{}/b``."""
    return PARAM.sub("{}", path)


def _inline(node: Any, doc: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name in seen:  # a recursive schema: stop, anything goes below
                return {}
            return _inline(doc["components"]["schemas"][name], doc, (*seen, name))
        return {k: _inline(v, doc, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, doc, seen) for v in node]
    return node


def _responses(op: dict[str, Any], doc: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    result: dict[str, dict[str, Any] | None] = {}
    for status, response in (op.get("responses") or {}).items():
        content = (response or {}).get("content") or {}
        media = content.get("application/json")
        result[str(status)] = _inline(media.get("schema", {}), doc) if media else None
    return result


@cache
def operations() -> tuple[Operation, ...]:
    """Every published operation, in file and path order."""
    found = []
    for path_ in sorted(SPEC_DIR.glob("*.yml")):
        doc = yaml.safe_load(path_.read_text())
        for path, item in (doc.get("paths") or {}).items():
            for method in METHODS:
                op = item.get(method)
                if op is not None:
                    found.append(Operation(
                        file=path_.name, method=method.upper(), path=path,
                        operation_id=op["operationId"], summary=op.get("summary", ""),
                        responses=_responses(op, doc),
                    ))  # fmt: skip
    return tuple(found)


def served(app_routes: set[tuple[str, str]]) -> dict[str, Operation]:
    """The operations linkplane serves (same method, same path shape), by operation id."""
    shapes = {(method, shape(path)) for method, path in app_routes}
    return {op.operation_id: op for op in operations() if op.key in shapes}
