"""``linkplane demo`` with no ``linkplane up`` running: it starts one, plays, and stops it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.test_up import cli


def test_demo_starts_its_own_stack(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINKPLANE_", "AWS_"))}
    data = tmp_path / "demo"
    done = subprocess.run(cli("demo", "--data-dir", str(data)), capture_output=True, text=True,
                          timeout=240, env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "starting one in" in out and "started linkplane up in" in out
    lines = [line for line in out.splitlines() if line[:2] in {f"{n}." for n in range(1, 9)}]
    assert [line[:2] for line in lines] == [f"{n}." for n in range(1, 9)], out
    assert "no share, attachment, association or route is left" in lines[-1]
    # The stack it started is gone again: no runtime.json, the log says it stopped.
    assert not (data / "runtime.json").exists()
    assert "linkplane: stopping" in (data / "up.log").read_text()
