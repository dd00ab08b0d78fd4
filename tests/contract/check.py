"""Checking one served response against its operation's published response schema."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from tests.contract.defects import ERROR_BODY, ERROR_STATUSES, STATUS_ALIASES, tolerated
from tests.contract.spec import Operation


def _schema_for(op: Operation, status: int) -> tuple[str, dict[str, Any] | None] | str:
    """(declared status, schema) a response of ``status`` is checked against, or why it
    cannot be."""
    code = str(status)
    if code in op.responses:
        return code, op.responses[code]
    alias = STATUS_ALIASES.get((op.operation_id, code))
    if alias is not None and alias[0] in op.responses:
        return alias[0], op.responses[alias[0]]
    if status in ERROR_STATUSES:
        return code, ERROR_BODY
    return f"status {status} is not declared (declared: {', '.join(sorted(op.responses))})"


def problems(op: Operation, status: int, body: bytes) -> list[str]:
    """What is wrong with a response of ``op`` (empty: it conforms to the description, as
    corrected by tests/contract/defects.py)."""
    if status == 204:
        return [] if not body else [f"204 with a body: {body[:200]!r}"]
    found = _schema_for(op, status)
    if isinstance(found, str):
        return [found]
    declared, schema = found
    if schema is None:
        return []  # no JSON body declared: nothing to check it against
    try:
        instance = json.loads(body)
    except ValueError:
        return [f"{status}: the body is not JSON: {body[:200]!r}"]
    checked = tolerated(op.operation_id, declared, schema)
    validator = Draft202012Validator(checked)
    return [
        f"{status} at /{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    ][:10]
