"""The public emnify Python SDK (emnify-sdk 0.5.3, pydantic 1) drives linkplane unchanged.

The SDK lives in its own virtual environment (``.venv-emnify-sdk/``, created on first use);
a script run with that interpreter talks to a live uvicorn server on 127.0.0.1, pointed
there by the SDK's ``EMNIFY_SDK_API_ENDPOINT_URL``, authenticating with a real application
token through ``POST /api/v1/authenticate``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.devices.seed import seed_demo_fleet
from linkplane.process.app import create_app
from linkplane.profiles import service as profiles
from linkplane.tenancy import service as tenancy
from linkplane.tenancy.principal import Principal, Role
from tests.test_devices_support import import_sims, sim_rows

ROOT = Path(__file__).resolve().parent.parent
SDK_VENV = ROOT / ".venv-emnify-sdk"
SDK_PYTHON = SDK_VENV / "bin" / "python"
SCRIPT = Path(__file__).resolve().parent / "emnify_sdk" / "drive.py"


def _ensure_sdk() -> None:
    check = [str(SDK_PYTHON), "-c", "import emnify"]
    if SDK_PYTHON.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SDK_VENV)], check=True, timeout=120)
        pip = [str(SDK_PYTHON), "-m", "pip", "install", "-q", "emnify-sdk==0.5.3"]
        subprocess.run(pip, check=True, timeout=600, capture_output=True)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"cannot install emnify-sdk==0.5.3 into {SDK_VENV}: {exc}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(ctx: AppContext) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(ctx.settings, ctx.sessionmaker), host="127.0.0.1", port=port,
        log_level="warning",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _tenant(ctx: AppContext) -> dict[str, str]:
    """An organisation with the demo fleet, a shipped SIM batch and an application token."""
    with transaction(ctx.sessionmaker) as session:
        org, admin = tenancy.create_org_with_admin(
            session=session, name="sdk-org", admin_email="admin@sdk.example",
            admin_password="correct horse battery",
        )  # fmt: skip
        seed_demo_fleet(session=session, org_id=org.id)
        principal = Principal(user_id=admin.id, org_id=org.id, role=Role.ADMIN)
        _token, secret = tenancy.create_application_token(
            session=session, principal=principal, description="sdk", expiry_date=None, ip=None
        )
        sp = profiles.list_service_profiles(session=session, org_id=org.id)[0].id
        tp = profiles.list_tariff_profiles(session=session, org_id=org.id)[0].id
        org_id = org.id
    import_sims(ctx.sessionmaker, org_id, sim_rows(1, 2, "SDK1"))
    return {"APP_TOKEN": secret, "SP": str(sp), "TP": str(tp)}


@pytest.mark.slow
def test_emnify_sdk_drives_devices_sims_and_operators(ctx: AppContext, live_server: str) -> None:
    _ensure_sdk()
    env = {**os.environ, **_tenant(ctx), "EMNIFY_SDK_API_ENDPOINT_URL": f"{live_server}/api"}
    run = subprocess.run(
        [str(SDK_PYTHON), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["ip"] == "100.64.0.1"
    assert out["renamed"] == "renamed" and out["filtered"] == ["renamed"]
    assert out["registered"] == [1, 1]
    assert out["sim_after_suspend"] == 2 and out["sim_after_activate"] == 1
    assert out["linked_sim"] == out["sim_id"]
    assert out["disabled"] == {"device": 1, "sim": 2}
    assert out["enabled"] == {"device": 0, "sim": 1}
    assert "Endpoint created" in out["events"]
    assert out["operators"] >= 5
    assert out["after_delete"] == [] and out["free_sims"] == [1, 2]
