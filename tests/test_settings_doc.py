"""docs/configuration.md is what the settings object generates, and documents everything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linkplane.ops.settings_doc import field_comments, render
from linkplane.settings import Settings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_committed_page_is_what_the_settings_generate() -> None:
    assert PAGE.read_text() == render(), (
        "docs/configuration.md is stale: run `linkplane settings doc -o docs/configuration.md`"
    )


def test_every_variable_is_on_the_page_with_a_description() -> None:
    page = PAGE.read_text()
    for name in Settings.model_fields:
        row = next(line for line in page.splitlines() if f"`LINKPLANE_{name.upper()}`" in line)
        description = row.rstrip("|").rsplit("|", 1)[-1].strip()
        assert len(description) > 10, f"{name} has no description"


def test_a_setting_without_description_is_refused() -> None:
    comments = field_comments()
    del comments["database_url"]
    with pytest.raises(ValueError, match="database_url"):
        render(lambda: comments)


def test_cli_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(render().replace("LINKPLANE_DEVICE_CIDR", "LINKPLANE_OLD_NAME"))
    cmd = [sys.executable, "-m", "linkplane", "settings", "doc", "--check"]
    bad = subprocess.run([*cmd, str(stale)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "out of date" in bad.stderr
    good = subprocess.run([*cmd, str(PAGE)], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
