"""``linkplane region`` end to end against the embedded cloud over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkplane.regions.cli import app
from tests.localcloud import conftest as lc

_http_cloud = lc._http_cloud
runner = CliRunner()


@pytest.fixture
def endpoint(_http_cloud: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    lc._reset()
    monkeypatch.setenv("LINKPLANE_AWS_ENDPOINT_URL", _http_cloud)
    monkeypatch.setenv("LINKPLANE_CLOUD", "embedded")
    yield _http_cloud
    lc._reset()


class linkplane:  # noqa: N801 - reads like the command it runs
    """``linkplane ARGS`` in a subprocess, started at once (so several run in parallel)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        code = "import sys; from linkplane.cli import main; sys.argv[0] = 'linkplane'; main()"
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self._out: tuple[str, str] | None = None

    def _wait(self) -> tuple[str, str]:
        if self._out is None:
            self._out = self._proc.communicate(timeout=90)
        return self._out

    @property
    def returncode(self) -> int:
        self._wait()
        return self._proc.returncode

    @property
    def stdout(self) -> str:
        return self._wait()[0]

    @property
    def stderr(self) -> str:
        return self._wait()[1]


def test_bootstrap_then_up_to_date_then_list(endpoint: str, tmp_path: Path) -> None:
    args = ["bootstrap", "--region", "eu-west-1", "--data-dir", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "region eu-west-1 bootstrapped:" in first.output
    assert "created transit gateway tgw-" in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0
    assert second.output.strip() == "region eu-west-1 is up to date (no changes)"
    listed = runner.invoke(app, ["list", "--json", "--data-dir", str(tmp_path)])
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["account_id"]) for r in rows] == [("eu-west-1", "123456789012")]
    human = runner.invoke(app, ["list", "--data-dir", str(tmp_path)])
    assert rows[0]["tgw_id"] in human.output


def test_bad_input_is_one_line_and_non_zero(endpoint: str, tmp_path: Path) -> None:
    import os

    env = {**os.environ, "LINKPLANE_AWS_ENDPOINT_URL": endpoint, "LINKPLANE_CLOUD": "embedded"}
    d = str(tmp_path)
    unknown = linkplane("region", "bootstrap", "--region", "mars-1", "--data-dir", d, env=env)
    missing = linkplane(
        "region", "bootstrap", "--region", "eu-west-1", "--tgw-id", "tgw-0123456789abcdef0",
        "--data-dir", d, env=env,
    )  # fmt: skip
    down = linkplane(
        "region", "bootstrap", "--region", "eu-west-1", "--data-dir", d,
        env={**env, "LINKPLANE_AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    for result, text in [
        (unknown, "error (region): unknown region 'mars-1'; use one of: us-east-1"),
        (missing, "error (tgw_id): transit gateway tgw-0123456789abcdef0 does not exist"),
        (down, "error: cannot reach AWS endpoint URL: http://127.0.0.1:9"),
    ]:
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(text), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr + result.stdout
