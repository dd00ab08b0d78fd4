"""Placeholder until this part of the extension lands."""


def install() -> None:
    """Patch moto; filled in by the extension."""
