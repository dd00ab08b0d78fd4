"""THE list of defects of the published descriptions that the contract test tolerates.

Each entry says where the description is wrong and why linkplane does not follow it there;
``docs/api-compat.md`` shows this list (generated from it, see tests/contract/coverage.py).
Anything not listed here is checked against the description as published. Adding an entry
needs a reason a reviewer can check against the description itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

#: linkplane's one error body (docs/api-compat.md, "Common conventions").
ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["status_code", "message", "error_code", "error_token", "errors"],
    "properties": {
        "status_code": {"type": "integer"},
        "message": {"type": "string"},
        "error_code": {"type": "integer"},
        "error_token": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        }},
    },
}  # fmt: skip
ERROR_STATUSES = frozenset({400, 401, 403, 404, 409, 413, 422})


@dataclass(frozen=True)
class Defect:
    """One tolerated defect: ``where`` names the operations (``*`` for all) and ``what``
    the rule; ``reason`` is what makes it a defect of the description."""

    where: str
    what: str
    reason: str


GENERAL: tuple[Defect, ...] = (
    Defect("*", "204 responses are checked to have no body; their declared JSON schema is "
           "ignored",
           "every 204 is declared with an `application/json` body, which HTTP forbids for "
           "204 No Content"),
    Defect("*", "an error status the operation does not declare (400, 401, 403, 404, 409, "
           "413, 422) is checked against linkplane's error body",
           "most operations declare no 401 although every one needs a token, and no 404 "
           "although they take ids; linkplane answers them with emnify's error body"),
    Defect("*", "`oneOf` is checked as `anyOf`",
           "`oneOf` branches without required fields (e.g. an object or null, objects of "
           "optional fields) match a valid value more than once, which `oneOf` forbids"),
)


@dataclass(frozen=True)
class Patch:
    """A part of one operation's response schema replaced before checking."""

    operation_id: str
    status: str
    #: Keys from the response schema down to the part (``"items"``, property names).
    path: tuple[str, ...]
    schema: dict[str, Any]
    reason: str


NULLABLE_STRING = {"type": ["string", "null"]}
#: A patch schema meaning "an array whose items are what the description declares here".
ARRAY_OF_DECLARED: dict[str, Any] = {"x-linkplane": "array of the declared schema"}

PATCHES: tuple[Patch, ...] = (
    *(Patch("bulk-create-endpoint", "201", ("items", "properties", name), schema,
            f"`{name}` of a created endpoint is declared {declared} here but "
            f"{actual} in the same endpoint of `POST /api/v1/endpoint`")
      for name, schema, declared, actual in (
          ("tags", NULLABLE_STRING, "a string", "a string or null"),
          ("imei", NULLABLE_STRING, "a string", "a string or null"),
          ("imei_with_luhn", NULLABLE_STRING, "an object", "a string or null"),
          ("sim", {"type": ["object", "null"]}, "an object", "an object or null"),
          ("status", {"type": "object", "required": ["id", "description"]},
           "an object without `id`", "`{id, description}`"),
      )),
    *(Patch("endpoint-by-id-get", "200", ("properties", name), schema,
            f"`{name}` is declared non-null here but null-able for the same endpoint in the "
            "list (`GET /api/v1/endpoint`) and in the answer of `POST /api/v1/endpoint`")
      for name, schema in (("tags", NULLABLE_STRING), ("imei", NULLABLE_STRING),
                           ("sim", {"type": ["object", "null"]}))),
    Patch("service-profile-by-profile-id-get", "200", ("properties", "used_count"),
          {"type": "string"},
          "declared an integer here but a string for the same profiles in the list "
          "(`GET /api/v1/service_profile`), as in every tariff profile shape"),
    Patch("sim-stats-by-id-get", "200", (), {"type": "object"},
          "declared as an array, but its description (one `last_month`, `current_month`, "
          "`last_hour`), emnify's documented example and the endpoint's stats give one "
          "object"),
    *(Patch("get-organisation-hourly-stats", "200", ("properties", kind, "properties", way),
            {"type": "array", "items": {"type": "array", "prefixItems": [
                {"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2}},
            "items are declared strings while the description says each is a pair "
            "(index 0 the time `HH:mm`, index 1 the volume)")
      for kind in ("data",) for way in ("rx", "tx")),
    *(Patch(op, "200", path, {"type": "integer"},
            "the currency's `id` is declared an object with no properties; every other "
            "currency in the descriptions has an integer id")
      for op, path in (
          ("tariff-profile-get", ("items", "properties", "tariff", "properties", "currency",
                                  "properties", "id")),
          ("tariff-profile-by-id-get", ("properties", "tariff", "properties", "currency",
                                        "properties", "id")),
      )),
    Patch("tariff-profile-operator-block-list-operator-get", "200", (), ARRAY_OF_DECLARED,
          "the list of a tariff profile's blocked operators is declared as one object (the "
          "shape of one blocked operator, as `GET .../operator/{operator_id}` declares it); "
          "linkplane answers a list of such objects"),
)

#: Success statuses answered although the operation declares another, and why.
STATUS_ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("service-profile-by-profile-id-patch", "204"): (
        "201", "declared 201 (Created) for an update that creates nothing; every other "
        "PATCH of the descriptions answers 204, as linkplane does here"),
}


def _oneof_as_anyof(node: Any) -> Any:
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _oneof_as_anyof(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_oneof_as_anyof(v) for v in node]
    return node


def _replace(schema: dict[str, Any], path: tuple[str, ...], part: dict[str, Any]) -> Any:
    if part is ARRAY_OF_DECLARED:
        declared = schema
        for key in path:
            declared = declared[key]
        part = {"type": "array", "items": declared}
    if not path:
        return copy.deepcopy(part)
    result = copy.deepcopy(schema)
    node = result
    for key in path[:-1]:
        node = node[key]
    if path[-1] not in node:
        raise KeyError(f"defect patch points at nothing: {'/'.join(path)}")
    node[path[-1]] = copy.deepcopy(part)
    return result


def tolerated(operation_id: str, status: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The schema a response is checked against: the published one with the defects of this
    list corrected."""
    for patch in PATCHES:
        if (patch.operation_id, patch.status) == (operation_id, status):
            schema = _replace(schema, patch.path, patch.schema)
    fixed: dict[str, Any] = _oneof_as_anyof(schema)
    return fixed


#: Responses known to violate the description that another piece of work fixes: NOT
#: tolerated defects of the description. Each must still occur (the test fails once it is
#: fixed, so the entry is removed) and names what fixes it.
KNOWN_VIOLATIONS: dict[str, str] = {}
