"""``linkplane serve`` runs no workflow code: building its application (every router, the
portal) loads neither the workflow functions nor the durable runtime, only the client that
enqueues and signals through the system database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CODE = """
import json, sys
from linkplane.context import open_context
from linkplane.durable.client import QueueClient
from linkplane.process import serve
from linkplane.process.app import create_app
from linkplane.settings import Settings

settings = Settings(data_dir=sys.argv[1])
ctx = open_context(settings)
create_app(settings, ctx.sessionmaker, QueueClient(settings))
print(json.dumps(sorted(m for m in sys.modules if m.startswith((
    "linkplane.attachments.workflows.", "linkplane.durable.", "linkplane.process.")))))
"""


def test_the_serve_process_loads_no_workflow_and_no_runtime(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", CODE, str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "linkplane.durable.client" in loaded  # how serve hands starts to the workers
    for workflow_code in ("linkplane.attachments.workflows.provisioning",
                          "linkplane.attachments.workflows.teardown",
                          "linkplane.attachments.workflows.sweep",
                          "linkplane.durable.runtime", "linkplane.durable.steps",
                          "linkplane.process.worker", "linkplane.process.up"):  # fmt: skip
        assert workflow_code not in loaded, workflow_code
