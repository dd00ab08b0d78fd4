"""deploy/iam/linkplane-provider-policy.json grants exactly what linkplane's flows call.

The flows below (bootstrap and its compensation, a breakout's lifecycle under faults,
rejection of a foreign attachment, audit and every kind of repair) run in a child pytest
with :mod:`tests.aws_recorder`, which notes every AWS action the provider's adapter sends.
The policy must grant each of them and nothing else; the adapter must send no action that
these flows miss; and the policy must be valid against AWS's published IAM definitions
(parliament's copy of the Service Authorization Reference): actions and condition keys
exist, every resource type an action requires is granted by some statement, and no
``aws:RequestTag`` condition sits on a call made without tags (IAM would deny it).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from tests.aws_recorder import RECORD_ENV, TAGGED

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "deploy" / "iam" / "linkplane-provider-policy.json"

#: The flows whose AWS calls the policy is derived from (add a peering flow here when it
#: calls AWS: the adapter check below fails until one does).
FLOWS = (
    # bootstrap, a breakout to Active and deleted, every step retried once when throttled
    "tests/test_breakouts_faults.py::test_retryable_errors_at_every_action_are_absorbed"
    "[throttled]",
    # bootstrap failing half-way and undoing everything (TGW, tables, core VPC)
    "tests/test_regions_bootstrap.py::test_failure_mid_way_undoes_everything",
    # a core VPC route an operator pointed elsewhere is pointed back at the TGW
    "tests/test_regions_bootstrap.py::test_aggregate_route_pointed_elsewhere_is_pointed_back",
    # an attachment from an account with no breakout is rejected
    "tests/test_breakouts_e2e.py::test_attachment_from_a_foreign_account",
    # audit, then repair of routes, shares, principals, associations, propagations
    "tests/test_isolation_audit.py::test_repair_fixes_everything_idempotently_with_events",
    "tests/test_isolation_audit.py::"
    "test_repair_points_a_redirected_route_back_and_reinvites_a_removed_principal",
    # a VPN breakout to Active and deleted (customer gateway, VPN connection)
    "tests/test_breakouts_vpn.py::test_delete_active_vpn_leaves_nothing",
    # a BGP HA VPN (type 4): ECMP turned on, two gateways and connections, deleted
    "tests/test_breakouts_vpn.py::"
    "test_ha_vpn_has_two_connections_four_tunnels_and_routes_only_the_declared_cidrs",
    # the tunnel watch: tunnel states and AWS/VPN metrics
    "tests/test_breakouts_vpn.py::test_tunnel_going_up_and_down_is_an_event_and_metrics_show_on_get",
    # region peering: request, accept, routes, then unpeer; and a failed run undone
    "tests/test_regions_peering.py::"
    "test_unpeer_refuses_while_breakouts_depend_then_removes_everything",
    "tests/test_regions_peering.py::test_failure_mid_way_undoes_what_the_run_created",
)
#: The flows take minutes on a loaded machine (their own tests have 300 s each).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
#: Actions that need no IAM permission (AWS: "No permissions are required").
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
#: Adapter methods sending these are called only where the flows above cannot reach.
ADAPTER_ONLY: set[str] = set()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("iam") / "actions.json"
    env = {**os.environ, RECORD_ENV: str(out)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.aws_recorder", "-q",
         "-p", "no:cacheprovider", *FLOWS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert run.returncode == 0, f"the recorded flows failed:\n{run.stdout[-3000:]}"
    per_test: dict[str, list[str]] = json.loads(out.read_text())
    return {action for actions in per_test.values() for action in actions}


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(POLICY.read_text())
    return data


def statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow" and st["Sid"]
        yield st


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def granted(policy: dict[str, Any]) -> set[str]:
    return {a for st in statements(policy) for a in _list(st["Action"])}


def test_policy_grants_exactly_what_the_flows_call(
    recorded: set[str], policy: dict[str, Any]
) -> None:
    called = {a for a in recorded if not a.startswith(TAGGED)} - NEEDS_NO_PERMISSION
    # CreateTags is what EC2 checks for the tags of a create call (test below).
    grants = granted(policy) - {"ec2:CreateTags"}
    assert sorted(called - grants) == [], "called but not granted: add them to the policy"
    assert sorted(grants - called) == [], "granted but called by no flow: remove them"


def test_tags_may_be_written_only_by_the_creates_that_tag(
    recorded: set[str], policy: dict[str, Any]
) -> None:
    tagging = {a.removeprefix(TAGGED) for a in recorded if a.startswith(TAGGED)}
    create_tags = [st for st in statements(policy) if "ec2:CreateTags" in _list(st["Action"])]
    assert len(create_tags) == 1
    allowed = _list(create_tags[0]["Condition"]["StringEquals"]["ec2:CreateAction"])
    assert {f"ec2:{a}" for a in allowed} == {a for a in tagging if a.startswith("ec2:")}
    # A RequestTag condition denies a call made without tags: only tagging calls get one.
    for st in statements(policy):
        keys = {k for op in st.get("Condition", {}).values() for k in op}
        if any(k.startswith("aws:RequestTag/") for k in keys):
            untagged = set(_list(st["Action"])) - tagging - {"ec2:CreateTags"}
            assert not untagged, f"{st['Sid']}: {sorted(untagged)} are called without tags"


def adapter_actions() -> set[str]:
    """Every action named by an AWS call of the adapter (linkplane/cloud/*.py)."""
    found: set[str] = set()
    for path in (ROOT / "linkplane" / "cloud").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            name = node.func.attr
            if name in {"_ec2", "_ram"} and args:
                found.add(f"{name[1:]}:{args[0]}")
            elif name in {"_call", "_pages"} and len(args) >= 2:
                found.add(f"{args[0]}:{args[1]}")
    return found


def test_the_flows_reach_every_action_the_adapter_sends(recorded: set[str]) -> None:
    missed = adapter_actions() - recorded - NEEDS_NO_PERMISSION - ADAPTER_ONLY
    assert sorted(missed) == [], "no recorded flow sends these: add a flow test to FLOWS"


def _definitions() -> dict[str, dict[str, Any]]:
    import parliament

    path = Path(parliament.__file__).parent / "iam_definition.json"
    services = json.loads(path.read_text())
    return {
        f"{svc['prefix']}:{p['privilege']}": p for svc in services for p in svc["privileges"]
    }


def _resource_arn(resource_type: str, prefix: str) -> str:
    return f"arn:aws:{prefix}:*:*:{resource_type}/*"


def test_policy_is_valid_iam(policy: dict[str, Any]) -> None:
    from parliament import analyze_policy_string

    # Parliament judges each statement alone and so reports a RESOURCE_MISMATCH where one
    # action's resource types are split over statements (IAM authorises each resource
    # against all statements): that property is checked below, across statements.
    findings = analyze_policy_string(POLICY.read_text()).findings
    assert [str(f) for f in findings if f.issue != "RESOURCE_MISMATCH"] == []
    defs = _definitions()
    for action in sorted(granted(policy)):
        types = [r["resource_type"] for r in defs[action]["resource_types"] if r["resource_type"]]
        required = [t.rstrip("*") for t in types if t.endswith("*")]
        resources = {r for st in statements(policy) if action in _list(st["Action"])
                     for r in _list(st["Resource"])}  # fmt: skip
        if not types:
            assert resources == {"*"}, f"{action} has no resource-level permissions: needs *"
        for rtype in required:
            arn = _resource_arn(rtype, action.split(":")[0])
            assert any(fnmatchcase(arn, r) for r in resources), f"{action} needs {arn}"


def test_every_statement_is_explained_in_the_deploy_guide(policy: dict[str, Any]) -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    missing = [st["Sid"] for st in statements(policy) if f"`{st['Sid']}`" not in guide]
    assert missing == [], "explain these statements in docs/deploy.md (IAM policy table)"
