"""Shared request parameter types.

Ids are bounded to what every supported database stores (PostgreSQL INTEGER), so an absurd
id in a path is a 422 naming the parameter rather than a driver overflow and a 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query

from linkplane.errors import InvalidInput, NotFound
from linkplane.ids import MAX_ID, ascii_digits
from linkplane.tenancy.principal import Principal

__all__ = ["MAX_ID", "CodeForm", "CodeQuery", "IdPath", "OrgParam", "own_org"]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id of the resource")]
#: A status or type code in a form or query (the portal's): the same bounds as in bodies.
CodeForm = Annotated[int, Form(ge=0, le=MAX_ID)]
CodeQuery = Annotated[int, Query(ge=0, le=MAX_ID)]
OrgParam = Annotated[
    str, Path(max_length=12, description="`my` or the numeric id of your organisation")
]


def own_org(org_id_or_my: str, principal: Principal) -> int:
    """``my`` or the caller's own id; any other organisation reads as unknown (404):
    linkplane has no child organisations."""
    if org_id_or_my == "my":
        return principal.org_id
    if not ascii_digits(org_id_or_my) or not 1 <= int(org_id_or_my) <= MAX_ID:
        raise InvalidInput("org_id_or_my must be 'my' or a numeric id", field="org_id_or_my")
    if int(org_id_or_my) != principal.org_id:
        raise NotFound(f"organisation {org_id_or_my} not found", field="org_id_or_my")
    return principal.org_id
