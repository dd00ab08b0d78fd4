"""Which steps provision a TGW (and a VPN) breakout. New TGW plans run sequence 2 (what
follows without a wait is one compound step: one checkpoint); a plan DBOS checkpointed
before sequence 2 existed replays sequence 1 step for step, since DBOS replays a workflow by
the names of the steps it recorded (linkplane.attachments.workflows.tgw)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from typing import Any

import pytest
from dbos import DBOS

from linkplane.attachments.records import Plan
from linkplane.attachments.workflows import tgw, vpn_plan
from tests.test_breakouts_support import Stack, new_account, new_cidrs
from tests.test_breakouts_support import stack as stack  # the module-scoped fixture
from tests.test_breakouts_vpn import create_vpn

#: Sequence 1, as recorded by workflows started before sequence 2 (a step polled several
#: times appears once here). "vpc route" only for a CIDR outside the core VPC's aggregate.
SEQUENCE_1 = ["load", "ensure_share", "record_share", "invitation_status", "accepted",
              "find_attachment", "attachment turn", "claim", "accept", "attachment_state",
              "routing", "associate", "route {cidr}", "vpc route {cidr}", "crossregion",
              "activate", "update core policy"]  # fmt: skip
SEQUENCE_2 = ["load", "share", "invitation_status", "attachment", "routing",
              "update core policy"]  # fmt: skip


def _steps(workflow_id: str) -> list[str]:
    """The workflow's recorded steps without DBOS's own (sleep, recv), repeats merged."""
    names: list[str] = []
    for step in DBOS.list_workflow_steps(workflow_id):
        name = step["function_name"]
        if not name.startswith("DBOS.") and (not names or names[-1] != name):
            names.append(name)
    return names


def _provision(stack: Stack) -> tuple[int, str, dict[str, Any]]:
    """A one-CIDR breakout to Active (the customer accepts, then attaches), its workflow done."""
    account, (cidr,) = new_account(), new_cidrs(1)
    bid = stack.create(account, [cidr])["id"]
    stack.wait_for(bid, lambda d: bool(d["aws_resources"].get("resource_share_arn")))
    stack.accept_invitation(account)
    stack.status(bid, 2)
    stack.attach(account, cidr=cidr)
    data = stack.status(bid, 5)
    assert DBOS.retrieve_workflow(f"breakout-{bid}-1").get_result() == "active"
    return bid, cidr, data


def _once(data: dict[str, Any]) -> None:
    """Each status change once, in order, and each event once."""
    history = [e["description"] for e in data["history"]]
    changes = [e["detail"]["to"] for e in data["history"] if "to" in e["detail"]]
    assert changes == [2, 3, 4, 5]
    assert len(history) == len(set(history)), history


def test_new_plans_provision_with_compound_steps(stack: Stack) -> None:
    bid, _, data = _provision(stack)
    assert _steps(f"breakout-{bid}-1") == SEQUENCE_2
    _once(data)


def test_plans_of_sequence_1_replay_its_steps(stack: Stack, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:  # fmt: skip
    monkeypatch.setattr(tgw, "SEQUENCE", 1)  # what the load step checkpointed before
    bid, cidr, data = _provision(stack)
    wanted = [s.format(cidr=cidr) for s in SEQUENCE_1]
    if not stack.region.needs_vpc_route(cidr):  # the core VPC's aggregate routes it already
        wanted.remove(f"vpc route {cidr}")
    assert _steps(f"breakout-{bid}-1") == wanted
    _once(data)


def test_a_plan_pickled_before_sequences_existed_reads_sequence_1() -> None:
    plan = Plan(breakout_id=1, revision=1, region="eu-central-1", account_id="123456789012",
                tgw_id="tgw-1", tgw_arn="arn", core_route_table_id="rt-1",
                customers_route_table_id="rt-2", cidrs=("10.0.0.0/24",),
                invitation_deadline=0.0)  # fmt: skip
    old = replace(plan, sequence=2)
    del old.__dict__["sequence"]  # the attributes DBOS pickled before the field existed
    assert pickle.loads(pickle.dumps(old)).sequence == 1
    assert plan.sequence == 1 and tgw.SEQUENCE == 2


@pytest.mark.parametrize("sequence", [1, 2])
def test_vpn_plans_keep_the_steps_they_started_with(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, sequence: int
) -> None:
    """VPN sequence 2 adds the cross-region routes before "activate"; a VPN plan checkpointed
    before it (sequence 1) replays without that step and still ends Active."""
    monkeypatch.setattr(vpn_plan, "SEQUENCE", sequence)
    bid = create_vpn(stack, 2, new_cidrs(1))["id"]
    stack.status(bid, 5)
    assert DBOS.retrieve_workflow(f"breakout-{bid}-1").get_result() == "active"
    names = _steps(f"breakout-{bid}-1")
    tail = ["crossregion", "activate"] if sequence == 2 else ["activate"]
    assert names[names.index("activate") - len(tail) + 1 : names.index("activate") + 1] == tail
    assert ("crossregion" in names) == (sequence == 2)
