"""``linkplane breakout ...`` against a live API (uvicorn, real tokens), and its progress view."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from linkplane.attachments import progress
from linkplane.cli import _register, app
from linkplane.errors import Conflict, InvalidInput, LinkplaneError, Unauthorized
from tests.test_breakouts_e2e_support import Live
from tests.test_breakouts_e2e_support import live as live  # the fixture
from tests.test_breakouts_support import REGION, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the fixture

_register()


def run(live: Live, *args: str, **env: str) -> Any:
    creds = {"LINKPLANE_EMAIL": live.email, "LINKPLANE_PASSWORD": live.password, **env}
    result = CliRunner(env=creds).invoke(app, ["breakout", *args, "--api-url", live.url])
    return result


def _create(live: Live, account: str, cidr: str, *extra: str) -> Any:
    return run(live, "create", "--name", "cli", "--account", account, "--cidr", cidr,
               "--region", REGION, *extra)  # fmt: skip


def test_create_list_show_recheck_delete(live: Live) -> None:
    account, (cidr,) = new_account(), new_cidrs()
    created = _create(live, account, cidr, "--json")
    assert created.exit_code == 0, created.output
    bid = json.loads(created.stdout)["id"]
    live.shared(bid)
    listed = run(live, "list")
    assert f"{bid}\t1 Pending Customer Action\tcli\t{REGION}\t{account}\t{cidr}" in listed.output
    shown = run(live, "show", str(bid))
    assert f"customer {account}: accept the RAM invitation" in shown.output
    assert "aws resource_share_arn: arn:aws:ram:" in shown.output
    assert "Breakout 'cli' created" in shown.output
    assert run(live, "recheck", str(bid)).exit_code == 0
    deleted = run(live, "delete", str(bid), "--wait", "--timeout", "30")
    assert deleted.exit_code == 0, deleted.output
    assert "7 Deactivated" in deleted.output
    assert json.loads(run(live, "show", str(bid), "--json").stdout)["status"]["id"] == 7


def test_create_wait_shows_progress_until_active(live: Live) -> None:
    account, (cidr,) = new_account(), new_cidrs()

    def customer() -> None:  # acts while the CLI waits, as a customer would
        bid = live.wait_for_new(account)
        live.shared(bid)
        time.sleep(1.5)  # a human's pace: the CLI (polling every 0.5 s) shows each step
        live.stack.accept_invitation(account)
        live.status(bid, 2)
        time.sleep(1.5)
        live.stack.attach(account, cidr=cidr)

    thread = threading.Thread(target=customer)
    thread.start()
    result = _create(live, account, cidr, "--wait", "--timeout", "60")
    thread.join(timeout=60)
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "1 Pending Customer Action",
        f"customer {account}: accept the RAM invitation",
        f"customer {account}: attach a VPC ({cidr})",
        "5 Active",
        f"active: {cidr}",
    ):
        assert text in out, out  # fmt: skip
    assert out.index("accept the RAM") < out.index("attach a VPC") < out.index("5 Active")
    assert "[" in out and "s] " in out  # elapsed time on every line


def test_wait_ends_non_zero_when_the_breakout_expires(live: Live) -> None:
    account, (cidr,) = new_account(), new_cidrs()
    with live.settings(invitation_ttl_seconds=1):
        result = _create(live, account, cidr, "--wait", "--timeout", "30")
    assert result.exit_code == progress.Outcome.ENDED, result.output
    assert "expired: retry with `linkplane breakout retry" in result.output
    bid = int(result.output.split("breakout ", 1)[1].split(":", 1)[0])
    retried = run(live, "retry", str(bid))
    assert retried.exit_code == 0, retried.output
    assert "(revision 2)" in retried.output and "1 Pending Customer Action" in retried.output
    assert run(live, "delete", str(bid), "--wait", "--timeout", "30").exit_code == 0


def test_wait_timeout_exits_3(live: Live) -> None:
    account, (cidr,) = new_account(), new_cidrs()
    result = _create(live, account, cidr, "--wait", "--timeout", "0.5")
    assert result.exit_code == progress.Outcome.TIMED_OUT, result.output
    assert "gave up waiting after 0.5s" in result.output
    bid = int(result.output.split("breakout ", 1)[1].split(":", 1)[0])
    assert run(live, "delete", str(bid)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "env", "error", "field"),
    [
        (["create", "--name", "x", "--account", "123", "--cidr", "10.1.0.0/24"], {},
         InvalidInput, "aws_account_id"),
        (["create", "--name", "x", "--account", "123456789012", "--cidr", "8.8.8.0/24"], {},
         InvalidInput, "vpc_cidr[0]"),
        (["show", "987654321"], {}, LinkplaneError, None),
        (["list"], {"LINKPLANE_PASSWORD": "wrong-password"}, Unauthorized, None),
        (["list"], {"LINKPLANE_EMAIL": "", "LINKPLANE_PASSWORD": ""}, InvalidInput, "email"),
    ],
)  # fmt: skip
def test_errors_name_the_field(
    live: Live, args: list[str], env: dict[str, str], error: type[Exception], field: str | None
) -> None:
    result = run(live, *args, **env)
    assert isinstance(result.exception, error), result.output
    assert isinstance(result.exception, LinkplaneError)
    assert result.exception.field == field


def test_retry_of_a_breakout_that_has_not_expired_is_a_conflict(live: Live) -> None:
    created = _create(live, new_account(), new_cidrs()[0], "--json")
    assert created.exit_code == 0, created.output
    bid = json.loads(created.stdout)["id"]
    result = run(live, "retry", str(bid))
    assert isinstance(result.exception, Conflict), result.output
    assert run(live, "delete", str(bid)).exit_code == 0


def test_application_token_is_accepted(live: Live) -> None:
    made = live.http.post("/api/v1/application_token", json={"description": "cli"})
    assert made.status_code in (200, 201), made.text
    token = made.json()["application_token"]
    result = run(live, "list", LINKPLANE_EMAIL="", LINKPLANE_PASSWORD="", LINKPLANE_TOKEN=token)
    assert result.exit_code == 0, result.output


# --- the progress view, without a server ---------------------------------------------------
def _body(status: int, **extra: Any) -> dict[str, Any]:
    return {"id": 7, "status": {"id": status, "description": f"s{status}"}, "expired": False,
            "aws_account_id": "222222222222", "vpc_cidr": ["10.9.0.0/24"],
            "aws_resources": {"transit_gateway_id": "tgw-1", "resource_share_arn": "arn:s",
                              "routes": ["10.9.0.0/24"]}, **extra}  # fmt: skip


def test_next_step_says_who_acts() -> None:
    soon = (datetime.now(UTC) + timedelta(hours=2, minutes=5)).isoformat()
    assert "accept the RAM invitation for tgw-1 by" in progress.next_step(
        _body(1, invitation_expiry_date=soon)
    )
    assert "(in 2h 4m)" in progress.next_step(_body(1, invitation_expiry_date=soon))
    assert "attach a VPC (10.9.0.0/24) to tgw-1" in progress.next_step(_body(2))
    assert "retry" in progress.next_step(_body(2, expired=True))
    assert "nothing to do" in progress.next_step(_body(3))
    assert progress.next_step(_body(5)) == "active: 10.9.0.0/24 routed to tgw-1"
    assert "gone" in progress.next_step(_body(7, status_reason="gone"))
    assert progress.settled(_body(5), progress.ACTIVE) is progress.Outcome.REACHED
    assert progress.settled(_body(2, expired=True), progress.ACTIVE) is progress.Outcome.ENDED
    assert progress.settled(_body(7), progress.ACTIVE) is progress.Outcome.ENDED
    assert progress.settled(_body(2), progress.ACTIVE) is None  # fmt: skip


def test_display_spinner_only_on_a_tty() -> None:
    plain, tty = io.StringIO(), io.StringIO()
    for out, is_tty in ((plain, False), (tty, True)):
        d = progress.Display(out=out, tty=is_tty)
        d.tick("waiting")
        d.line("changed")
    assert plain.getvalue().endswith("] changed\n") and "\r" not in plain.getvalue()
    assert "\r" in tty.getvalue() and "waiting" in tty.getvalue()
    assert tty.getvalue().endswith("] changed\n")
