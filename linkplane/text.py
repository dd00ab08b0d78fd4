"""Control characters in client text: the rules, shared by the API's boundary check
(``linkplane/api/text.py``) and the schemas the portal fills from forms.

NUL, ESC and the other C0/C1 controls, and the bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069), have no place in a name or a description: stored, they
break terminals and logs, truncate C strings, and make a name display as something else
("Trojan Source"). Tab, newline and carriage return stay allowed in texts (descriptions,
SMS), never in names.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator

_BIDI = "\u202a-\u202e\u2066-\u2069"
#: Anywhere in a body.
TEXT_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")
#: In names, which are one line.
NAME_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
NAME_KEYS = frozenset({"name", "username", "tags"})


def first_control(value: Any, path: str = "") -> tuple[str, str] | None:
    """(field, character) of the first forbidden character in a parsed JSON value."""
    if isinstance(value, str):
        rule = NAME_FORBIDDEN if path.rsplit(".", 1)[-1] in NAME_KEYS else TEXT_FORBIDDEN
        found = rule.search(value)
        return (path or "body", found.group()) if found else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    for where, item in items:
        hit = first_control(item, where)
        if hit:
            return hit
    return None


def _checked(rule: re.Pattern[str]) -> Any:
    def check(value: str) -> str:
        found = rule.search(value)
        if found:
            raise ValueError(f"contains the control character U+{ord(found.group()):04X}")
        return value

    return AfterValidator(check)


#: A one-line name from a form (the API checks every JSON body already).
SafeName = Annotated[str, _checked(NAME_FORBIDDEN)]
#: A text that may have several lines.
SafeText = Annotated[str, _checked(TEXT_FORBIDDEN)]
