"""``linkplane verify | audit | policy`` against a data directory whose runtime.json points
at the embedded cloud (what ``linkplane up`` writes), through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkplane.cli import _register, app
from linkplane.context import write_runtime
from tests.test_isolation_support import World, make_world

_register()
runner = CliRunner()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    w = make_world(tmp_path)
    w.provision(w.orgs[0], ["10.61.0.0/24"])
    write_runtime(tmp_path, {"cloud_endpoint": w.endpoint_url, "api_url": "", "pid": 0})
    monkeypatch.setenv("LINKPLANE_PROVIDER_ACCOUNT_ID", w.settings.provider_account_id)
    return w


def _run(w: World, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--data-dir", str(w.settings.data_dir)])
    return result.exit_code, result.output


def test_verify_audit_repair_policy_commands(world: World, tmp_path: Path) -> None:
    code, out = _run(world, "verify")
    assert code == 0, out
    assert "OK: every intended path exists" in out
    world.ec2().delete_transit_gateway_route(
        TransitGatewayRouteTableId=world.region.core_table_id, DestinationCidrBlock="10.61.0.0/24")
    code, out = _run(world, "verify", "--json")
    assert code == 1 and "missing_route" in json.loads(out)["regions"]["eu-west-1"][
        "violations_by_code"]
    code, out = _run(world, "audit", "--json")
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"]] == ["missing_route"]
    code, out = _run(world, "audit", "--repair")
    assert code == 0 and "repaired: put_route" in out, out
    assert _run(world, "audit")[0] == 0
    target = tmp_path / "out" / "core.nft"
    code, out = _run(world, "policy", "export", "--output", str(target))
    assert code == 0 and "table inet linkplane_core" in target.read_text()
    assert "10.61.0.0/24" in target.read_text()
    code, out = _run(world, "policy", "show")
    assert code == 0 and out.startswith("#!/usr/sbin/nft -f")
