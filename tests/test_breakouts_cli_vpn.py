"""``linkplane breakout create-vpn`` and ``vpn-config`` against a live API (uvicorn, real
tokens, the workflow on the embedded cloud), and the VPN progress view."""

from __future__ import annotations

import itertools
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from linkplane.attachments import progress
from linkplane.errors import InvalidInput
from tests.test_breakouts_cli import run
from tests.test_breakouts_e2e_support import Live
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import REGION, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture
from tests.test_breakouts_vpn import NOTHING, left_in_cloud

_ips = itertools.count(120)


def _vpn(live: Live, cidrs: list[str], *extra: str) -> Any:
    args = ["create-vpn", "--name", "site", "--region", REGION,
            "--public-ip", f"81.2.69.{next(_ips)}"]  # fmt: skip
    for cidr in cidrs:
        args += ["--on-prem-cidr", cidr]
    return run(live, *args, *extra)


def test_create_vpn_waits_until_active_then_config_and_delete(live: Live, tmp_path: Path) -> None:
    cidrs = new_cidrs(2)
    result = _vpn(live, cidrs, "--psk", "cli.secret_42", "--wait", "--timeout", "60")
    assert result.exit_code == 0, result.output
    out = result.output
    # The statuses it passes through depend on the workflow's pace; these never show.
    assert "RAM" not in out and "attach a VPC" not in out and "s] " in out, out
    assert "5 Active" in out and f"active: {', '.join(cidrs)} routed to vpn-" in out, out
    found = re.search(r"breakout (\d+): \d ", out)
    assert found is not None, out
    bid = int(found.group(1))
    shown = json.loads(run(live, "show", str(bid), "--json").stdout)
    assert shown["type"]["id"] == 2 and shown["on_prem_cidr"] == cidrs
    listed = run(live, "list").output
    assert f"{bid}\t5 Active\tsite\t{REGION}\tvpn:{shown['public_ip']}\t{','.join(cidrs)}" in listed
    text_view = run(live, "show", str(bid)).output
    for tunnel in shown["tunnels"]:
        assert f"tunnel:   {tunnel['outside_address']} ({tunnel['inside_cidr']})" in text_view

    config = run(live, "vpn-config", str(bid), "--vendor", "strongswan")
    assert config.exit_code == 0, config.output
    assert "swanctl.conf" in config.output and "cli.secret_42" in config.output
    assert all(t["outside_address"] in config.output for t in shown["tunnels"])
    target = tmp_path / "site.conf"
    written = run(live, "vpn-config", str(bid), "-o", str(target))
    assert written.exit_code == 0, written.output
    assert f"written to {target}" in written.output and "cli.secret_42" not in written.output
    assert "[tunnel 2]" in target.read_text() and "cli.secret_42" in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    deleted = run(live, "delete", str(bid), "--wait", "--timeout", "60")
    assert deleted.exit_code == 0, deleted.output
    assert left_in_cloud(live.stack, bid, cidrs) == NOTHING


def test_create_vpn_bgp_sends_asn_and_inside_cidrs(live: Live) -> None:
    cidrs = new_cidrs(1)
    inside = ["169.254.90.0/30", "169.254.90.4/30"]
    result = _vpn(live, cidrs, "--bgp", "--asn", "65042", "--inside-cidr", inside[0],
                  "--inside-cidr", inside[1], "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["type"]["id"] == 3 and created["asn"] == 65042
    assert created["inside_cidr"] == inside
    assert run(live, "delete", str(created["id"]), "--wait", "--timeout", "60").exit_code == 0


def test_create_vpn_with_a_second_server_is_type_4_with_four_tunnels(live: Live) -> None:
    cidrs = new_cidrs(1)
    second = f"81.2.69.{next(_ips)}"
    result = _vpn(live, cidrs, "--asn", "65043", "--public-ip-2", second, "--wait",
                  "--timeout", "90")  # fmt: skip
    assert result.exit_code == 0, result.output
    found = re.search(r"breakout (\d+): \d ", result.output)
    assert found is not None and "5 Active" in result.output, result.output
    shown = json.loads(run(live, "show", found.group(1), "--json").stdout)
    assert (shown["type"]["id"], shown["public_ip_2"], shown["asn"]) == (4, second, 65043)
    assert len(shown["tunnels"]) == 4
    assert {t["customer_ip"] for t in shown["tunnels"]} == {shown["public_ip"], second}
    assert run(live, "delete", found.group(1), "--wait", "--timeout", "90").exit_code == 0
    assert left_in_cloud(live.stack, int(found.group(1)), cidrs) == NOTHING


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--bgp"], "asn"),
        (["--psk", "0short"], "psk"),
        (["--inside-cidr", "169.254.91.0/30"], "inside_cidr"),
        (["--public-ip-2", "10.0.0.9", "--asn", "65044"], "public_ip_2"),
    ],
)  # fmt: skip
def test_create_vpn_errors_name_the_field(live: Live, extra: list[str], field: str) -> None:
    result = _vpn(live, new_cidrs(1), *extra)
    assert isinstance(result.exception, InvalidInput), result.output
    assert result.exception.field == field


def test_create_vpn_refuses_a_private_public_ip(live: Live) -> None:
    result = run(live, "create-vpn", "--name", "x", "--region", REGION, "--public-ip",
                 "192.168.1.1", "--on-prem-cidr", new_cidrs(1)[0])  # fmt: skip
    assert isinstance(result.exception, InvalidInput), result.output
    assert result.exception.field == "public_ip"
    assert "not a public address" in result.exception.message


def test_vpn_config_of_a_tgw_breakout_is_refused(live: Live) -> None:
    from tests.test_breakouts_support import new_account

    created = run(live, "create", "--name", "t", "--account", new_account(), "--cidr",
                  new_cidrs(1)[0], "--region", REGION, "--json")  # fmt: skip
    bid = json.loads(created.stdout)["id"]
    result = run(live, "vpn-config", str(bid))
    assert isinstance(result.exception, InvalidInput), result.output
    assert "not a VPN breakout" in result.exception.message
    assert run(live, "delete", str(bid)).exit_code == 0


# --- the progress view of a VPN, without a server ---------------------------------------------
def _vpn_body(status: int, **extra: Any) -> dict[str, Any]:
    return {"id": 9, "type": {"id": 2, "description": "IPsec VPN"}, "public_ip": "81.2.69.1",
            "status": {"id": status, "description": f"s{status}"}, "expired": False,
            "aws_account_id": "", "vpc_cidr": ["10.9.0.0/24"],
            "aws_resources": {"transit_gateway_id": "tgw-1", "vpn_connection_id": "vpn-1",
                              "routes": ["10.9.0.0/24"]}, **extra}  # fmt: skip


def test_vpn_next_step_asks_nothing_in_aws() -> None:
    assert "customer gateway" in progress.next_step(_vpn_body(1))
    assert "RAM" not in progress.next_step(_vpn_body(1))
    assert "nothing to do" in progress.next_step(_vpn_body(4))
    assert progress.next_step(_vpn_body(5)) == (
        "active: 10.9.0.0/24 routed to vpn-1; configure 81.2.69.1 with "
        "`linkplane breakout vpn-config 9`"
    )
    assert "rolled" in progress.next_step(_vpn_body(7, status_reason="rolled back"))
