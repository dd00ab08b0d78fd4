"""Checking one answer against emnify's published description, from a feature's own tests.

The same check as the contract test (tests/test_api_contract.py): the operation's published
response schema with the description defects of tests/contract/defects.py corrected. Skips,
naming the folder, when the descriptions are not there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.contract.check import problems
from tests.contract.spec import SPEC_DIR, operations


def check(method: str, path: str, status: int, body: Any) -> None:
    """Fail naming what does not conform (``path`` as the description spells it)."""
    if not SPEC_DIR.is_dir():
        pytest.skip(f"emnify OpenAPI descriptions not found in {SPEC_DIR} "
                    "(set LINKPLANE_EMNIFY_OPENAPI_DIR)")  # fmt: skip
    op = next((o for o in operations() if (o.method, o.path) == (method.upper(), path)), None)
    assert op is not None, f"{method} {path} is not a published operation"
    found = problems(op, status, json.dumps(body).encode())
    assert not found, f"{method} {path} {status}: " + "; ".join(found)
