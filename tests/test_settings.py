"""The settings object: secrets stay out of its printed form."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkplane.settings import Settings

SECRET_VALUES = {
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt_secret": "7Jx9-very-long-random-shared-jwt-secret-value-0123456789",
    "demo_password": "correct horse battery staple",
}


@pytest.mark.parametrize("name", sorted(SECRET_VALUES))
def test_secrets_are_not_printed(name: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **{name: SECRET_VALUES[name]})  # type: ignore[arg-type]
    assert getattr(settings, name) == SECRET_VALUES[name]
    assert SECRET_VALUES[name] not in repr(settings)
    assert SECRET_VALUES[name] not in str(settings)
