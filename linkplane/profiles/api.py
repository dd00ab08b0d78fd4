"""HTTP routes of this feature (thin: parse, call the service, render)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
