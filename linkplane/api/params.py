"""Shared request parameter types.

Ids are bounded to what every supported database stores (PostgreSQL INTEGER), so an absurd
id in a path is a 422 naming the parameter rather than a driver overflow and a 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**31 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Numeric id of the resource")]
