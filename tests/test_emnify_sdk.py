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
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from linkplane.access.network import Network
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.devices.seed import seed_demo_fleet
from linkplane.process.app import create_app
from linkplane.profiles import service as profiles
from linkplane.sms import device
from linkplane.tenancy import service as tenancy
from linkplane.tenancy.models import Organisation
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


def _drive_sms(env: dict[str, str], phase: str) -> dict[str, Any]:
    script = Path(__file__).resolve().parent / "emnify_sdk" / "drive_sms.py"
    run = subprocess.run(
        [str(SDK_PYTHON), str(script), phase], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_emnify_sdk_drives_sms_blacklists_quotas_and_resets(
    ctx: AppContext, live_server: str
) -> None:
    _ensure_sdk()
    tenant = _tenant(ctx)
    with transaction(ctx.sessionmaker) as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.name == "sdk-org"))
    import_sims(ctx.sessionmaker, org_id, sim_rows(11, 1, "SDK2"))
    env = {**os.environ, **tenant, "EMNIFY_SDK_API_ENDPOINT_URL": f"{live_server}/api"}
    out = _drive_sms(env, "send")
    assert out["sent"] is True
    assert out["sms_before"] == [["open valve", {"id": 1, "description": "PENDING"}]]
    assert out["blacklist"] == [[2, "Vodafone", "Germany"]] and out["blacklist_after"] == []
    assert "already on the blacklist" in out["duplicate"]
    assert "not on the blacklist" in out["missing"]
    assert out["data_quota_set"] is True and out["sms_quota_set"] is True
    assert out["data_quota"]["volume"] == 25 and out["data_quota"]["status"]["id"] == "1"
    assert out["sms_quota"]["volume"] == 25 and out["sms_quota_deleted"] is True
    assert "has no SMS quota" in out["sms_quota_after"]
    assert out["reset_network"] is True and out["reset_data"] is True
    assert out["connectivity"] == "ONLINE"
    events = out["events"]
    assert any(e.startswith("Cancel Location requested") for e in events)
    assert any(e.startswith("Delete PDP Context requested") for e in events)
    assert any("submitted" in e for e in events) and any("blacklist" in e for e in events)

    with transaction(ctx.sessionmaker) as session:  # the device receives (simulated)
        got = device.receive(session=session, org_id=org_id, endpoint_id=out["device_id"],
                             network=Network())  # fmt: skip
        assert len(got.delivered) == 1
    after = _drive_sms({**env, "DEVICE": str(out["device_id"])}, "list")["sms_after"]
    assert after == [["open valve", {"id": 4, "description": "DELIVERED"},
                      {"id": 1, "description": "MT"}, after[0][3], True]]  # fmt: skip
    assert after[0][3]  # the SIM's MSISDN
