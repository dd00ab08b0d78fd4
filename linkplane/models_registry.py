"""Imports every feature's ORM models so that ``Base.metadata`` knows all tables."""

from __future__ import annotations

import importlib
import pkgutil

import linkplane

# Each feature folder may have a models.py; importing them registers their tables.
for _mod in pkgutil.iter_modules(linkplane.__path__):
    if _mod.ispkg:
        try:
            importlib.import_module(f"linkplane.{_mod.name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"linkplane.{_mod.name}.models":
                raise
