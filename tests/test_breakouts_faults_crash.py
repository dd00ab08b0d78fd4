"""Crash matrix: a worker process dies at every step boundary of one breakout's happy path,
is restarted each time, and the breakout still ends Active with exactly one share,
attachment, association and route (nothing duplicated) and one core VPC route; then the
same for the deletion of an Active breakout, which still ends Deactivated with nothing of
it left in the cloud and no failed compensation.

Two chains each (see ``tests.test_breakouts_faults_support``): one dies right
after each step's result was recorded; the other inside each AWS step after its call
returned but before DBOS recorded it, so the step runs again and only idempotency keeps it
from duplicating (or, in the teardown, from failing on what is already gone). Each chain
restarts its worker (same executor id: DBOS recovers at once) until the workflow succeeds,
and must have died at exactly the workflow's steps, in their order: a step added to a
workflow but not to the lists below fails the chain.

The same chains run for a TGW breakout whose devices break out in a peered region (each
route over the peering a step of its own), and for the sweep moving such a breakout's routes
when its devices move to its own region and back (killed only at the move's steps);
``linkplane region peer`` and ``region unpeer`` (commands, no workflow) are killed after each
AWS change, then run again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa

from tests.test_breakouts_faults_support import (
    ACTIVE_ONE_CIDR,
    CRASH_EXIT,
    NOTHING,
    PEER_A,
    PEER_B,
    Customer,
    PeerStack,
    ProcStack,
    counts,
    drive_until,
    inventory,
    owned,
    peer_stack,
    proc_stack,
    running,
)

#: The happy path's steps ("{cidr}" is the breakout's one CIDR); the waits poll at least once.
#: Sequence 2 (linkplane.attachments.workflows.tgw): what runs without a wait between is one
#: compound step ("attachment": find, claim, accept; "routing": record, associate, the
#: routes, activate); the embedded cloud makes an accepted attachment available at once.
STEPS = ["load", "share", "invitation_status", "attachment", "routing", "update core policy"]
AWS_STEPS = ["share", "invitation_status", "attachment", "routing"]
#: The deletion of an Active breakout: every undo (reverse order of creation), then final.
TEARDOWN = ["load", "vpc unroute {cidr}", "unroute {cidr}", "forget routes", "disassociate",
            "forget association", "remove_attachment", "forget attachment", "delete_share",
            "forget share", "update core policy", "final"]  # fmt: skip
TEARDOWN_AWS = ["vpc unroute {cidr}", "unroute {cidr}", "disassociate", "remove_attachment",
                "delete_share"]  # fmt: skip
ACTIVE, DEACTIVATED = 5, 7


@pytest.fixture(scope="module")
def procs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("crash"))


@dataclass
class Run:
    """What one crash chain did, and what it left."""

    cidr: str
    visited: list[str]  # the boundaries it died at, in order
    exits: list[int]  # of each worker process
    outcome: dict[str, object]


def _crash_until_done(
    procs: ProcStack, chain: str, mode: str, wid: str, customers: list[Customer], *start: str
) -> tuple[list[str], list[int]]:
    """Restart a crashing worker until workflow ``wid`` succeeds; the boundaries it died at
    and each process's exit code. ``chain`` names the marks file and the executor."""
    marks, env, exits = procs.data_dir / chain, procs.env(chain), []
    args = ["--crash-chain", str(marks), "--crash-mode", mode, *start]
    while procs.workflow_status(wid) != "SUCCESS":
        with running(procs.data_dir, env, *args) as worker:
            drive_until(customers, lambda: worker.proc.poll() is not None
                        or procs.workflow_status(wid) == "SUCCESS")  # fmt: skip
            exits.append(worker.proc.returncode if worker.proc.poll() is not None
                         else worker.stop())  # fmt: skip
    return marks.read_text().splitlines(), exits


def _chain(procs: ProcStack, mode: str, n: int) -> Run:
    """Provision one breakout through a crashing worker."""
    account, cidr = f"{600000000000 + n}", f"10.{200 + n}.0.0/24"
    bid = procs.create(account, [cidr])
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    visited, exits = _crash_until_done(procs, f"chain-{mode}", mode, f"breakout-{bid}-1",
                                       [customer], "--start", str(bid))  # fmt: skip
    found = counts(owned(inventory(procs.endpoint, account, procs.provider), account, bid, [cidr]))
    return Run(cidr, visited, exits, {"status": procs.status(bid), "records": found,
                                      "vpc_routes": procs.vpc_routes_to(cidr),
                                      "events": _once(procs.history(bid))})  # fmt: skip


def _once(history: list[str]) -> dict[str, object]:
    """The status changes in order and the events recorded more than once: a step run again
    after a crash finds its records made and records nothing twice."""
    changes = [e for e in history if e.startswith("-> ")]
    return {"changes": changes, "twice": sorted({e for e in history if history.count(e) > 1})}


#: Provisioning's status changes (Pending AWS Activation ... Active), each once.
ONCE = {"changes": ["-> 2", "-> 3", "-> 4", "-> 5"], "twice": []}


def _active(procs: ProcStack, account: str, cidr: str) -> int:
    """A breakout provisioned to Active by a worker that does not crash."""
    bid = procs.create(account, [cidr])
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    with running(procs.data_dir, procs.env(f"active-{account}"), "--start", str(bid)) as worker:
        drive_until([customer], lambda: procs.workflow_status(f"breakout-{bid}-1") == "SUCCESS",
                    worker=worker)  # fmt: skip
        worker.stop()
    assert procs.status(bid) == ACTIVE
    return bid


def _teardown_chain(procs: ProcStack, mode: str, n: int) -> Run:
    """Delete one Active breakout through a crashing worker."""
    account, cidr = f"{610000000000 + n}", f"10.{210 + n}.0.0/24"
    bid = _active(procs, account, cidr)
    # As the API does: commit status 6, then (nothing runs for an Active one) start the
    # deletion workflow; here the crashing worker starts it, again at each restart (a no-op).
    assert procs.delete(bid) == "teardown"
    wid = f"breakout-{bid}-1-delete"
    visited, exits = _crash_until_done(procs, f"teardown-{mode}", mode, wid, [],
                                       "--delete", str(bid))  # fmt: skip
    found = counts(owned(inventory(procs.endpoint, account, procs.provider), account, bid, [cidr]))
    row = procs.row(bid)
    return Run(cidr, visited, exits, {"status": row.status_id, "reason": row.status_reason,
                                      "records": found, "vpc_routes": procs.vpc_routes_to(cidr),
                                      "problems": procs.problems(bid)})  # fmt: skip


def _check(run: Run, wanted: list[str], outcome: dict[str, object]) -> None:
    # Exactly the listed steps, in order: none skipped, none unlisted.
    assert run.visited == [s.format(cidr=run.cidr) for s in wanted], run
    # Each process but the last died at one new boundary; the last was stopped cleanly.
    assert run.exits == [CRASH_EXIT] * len(run.visited) + [0], run
    assert run.outcome == outcome, run


def test_killed_after_every_recorded_step_and_restarted(procs: ProcStack) -> None:
    outcome = {"status": ACTIVE, "records": ACTIVE_ONE_CIDR, "vpc_routes": 1, "events": ONCE}
    _check(_chain(procs, "after", 1), STEPS, outcome)


def test_killed_inside_every_aws_step_before_it_is_recorded(procs: ProcStack) -> None:
    # Not in parallel with the other chain: a restarted worker's workflows are re-enqueued
    # on DBOS's shared internal queue, so another chain's live worker could run (and crash
    # at) them; that is right for production, but it would mix the two chains' boundaries.
    outcome = {"status": ACTIVE, "records": ACTIVE_ONE_CIDR, "vpc_routes": 1, "events": ONCE}
    _check(_chain(procs, "inside", 2), AWS_STEPS, outcome)


#: A deleted breakout: Deactivated, every undo succeeded, nothing of it left in the cloud.
DELETED = {"status": DEACTIVATED, "reason": "deleted", "records": NOTHING, "vpc_routes": 0,
           "problems": []}  # fmt: skip


def test_deletion_killed_after_every_recorded_teardown_step(procs: ProcStack) -> None:
    _check(_teardown_chain(procs, "after", 1), TEARDOWN, DELETED)


def test_deletion_killed_inside_every_aws_undo_before_it_is_recorded(procs: ProcStack) -> None:
    _check(_teardown_chain(procs, "inside", 2), TEARDOWN_AWS, DELETED)


# --- the same chains for VPN breakouts (type 2; type 3 runs the same plan; type 4 twice) ---
VPN_STEPS = ["load", "vpn_start", "customer_gateway", "record_cgw", "vpn_connection",
             "record_vpn", "vpn_state", "claim", "routing", "associate", "route {cidr}",
             "vpc route {cidr}", "crossregion", "activate", "update core policy"]  # fmt: skip
VPN_AWS_STEPS = ["customer_gateway", "vpn_connection", "vpn_state", "associate", "route {cidr}",
                 "vpc route {cidr}"]  # fmt: skip
VPN_TEARDOWN = ["load", "vpc unroute {cidr}", "unroute {cidr}", "forget routes", "disassociate",
                "forget association", "delete_vpn", "vpn_deleted", "forget vpn_connection",
                "delete_cgw", "forget customer_gateway", "update core policy", "final"]  # fmt: skip
VPN_TEARDOWN_AWS = ["vpc unroute {cidr}", "unroute {cidr}", "disassociate", "delete_vpn",
                    "vpn_deleted", "delete_cgw"]  # fmt: skip
VPN_ACTIVE = {"customer_gateways": 1, "vpn_connections": 1, "attachments": 1,
              "associations": 1, "routes": 1}  # fmt: skip
VPN_NOTHING = dict.fromkeys(VPN_ACTIVE, 0)
#: Type 4 (BGP HA): the ECMP check, then each connection's steps, named "... 2" the second.
HA_STEPS = ["load", "vpn_start", "ecmp", "customer_gateway", "record_cgw", "vpn_connection",
            "record_vpn", "customer_gateway 2", "record_cgw 2", "vpn_connection 2",
            "record_vpn 2", "vpn_state", "vpn_state 2", "claim", "routing", "associate",
            "associate 2", "route {cidr}", "vpc route {cidr}", "crossregion", "activate",
            "update core policy"]  # fmt: skip
HA_AWS_STEPS = ["ecmp", "customer_gateway", "vpn_connection", "customer_gateway 2",
                "vpn_connection 2", "vpn_state", "vpn_state 2", "associate", "associate 2",
                "route {cidr}", "vpc route {cidr}"]  # fmt: skip
HA_TEARDOWN = ["load", "vpc unroute {cidr}", "unroute {cidr}", "forget routes", "disassociate",
               "disassociate 2", "forget association", "delete_vpn", "vpn_deleted",
               "forget vpn_connection", "delete_vpn 2", "vpn_deleted 2",
               "forget vpn_connection_2", "delete_cgw", "forget customer_gateway",
               "delete_cgw 2", "forget customer_gateway_2", "update core policy",
               "final"]  # fmt: skip
HA_TEARDOWN_AWS = ["vpc unroute {cidr}", "unroute {cidr}", "disassociate", "disassociate 2",
                   "delete_vpn", "vpn_deleted", "delete_vpn 2", "vpn_deleted 2", "delete_cgw",
                   "delete_cgw 2"]  # fmt: skip
HA_ACTIVE = {"customer_gateways": 2, "vpn_connections": 2, "attachments": 2,
             "associations": 2, "routes": 1}  # fmt: skip


def _create(procs: ProcStack, n: int, cidr: str, ha: bool, block: int) -> int:
    second = f"81.2.{block + 2}.{n}" if ha else ""
    return procs.create_vpn(f"81.2.{block}.{n}", [cidr], second)


def _vpn_chain(procs: ProcStack, mode: str, n: int, ha: bool = False) -> Run:
    """Provision one VPN breakout through a crashing worker (no customer acts)."""
    cidr = f"10.{220 + n}.0.0/24"
    bid = _create(procs, n, cidr, ha, 72)
    chain = f"vpn{'-ha' if ha else ''}-{mode}"
    visited, exits = _crash_until_done(procs, chain, mode, f"breakout-{bid}-1", [],
                                       "--start", str(bid))  # fmt: skip
    return Run(cidr, visited, exits, {"status": procs.status(bid),
                                      "records": procs.vpn_left(bid, cidr),
                                      "vpc_routes": procs.vpc_routes_to(cidr)})  # fmt: skip


def _vpn_teardown_chain(procs: ProcStack, mode: str, n: int, ha: bool = False) -> Run:
    cidr = f"10.{230 + n}.0.0/24"
    bid = _create(procs, n, cidr, ha, 73)
    with running(procs.data_dir, procs.env(f"vpn-active-{n}"), "--start", str(bid)) as worker:
        drive_until([], lambda: procs.workflow_status(f"breakout-{bid}-1") == "SUCCESS",
                    worker=worker)  # fmt: skip
        worker.stop()
    assert procs.status(bid) == ACTIVE
    assert procs.delete(bid) == "teardown"
    wid = f"breakout-{bid}-1-delete"
    chain = f"vpn{'-ha' if ha else ''}-teardown-{mode}"
    visited, exits = _crash_until_done(procs, chain, mode, wid, [], "--delete", str(bid))
    row = procs.row(bid)
    return Run(cidr, visited, exits, {"status": row.status_id, "reason": row.status_reason,
                                      "records": procs.vpn_left(bid, cidr),
                                      "vpc_routes": procs.vpc_routes_to(cidr),
                                      "problems": procs.problems(bid)})  # fmt: skip


@pytest.mark.parametrize(("mode", "steps", "ha", "n"), [
    ("after", VPN_STEPS, False, 1), ("inside", VPN_AWS_STEPS, False, 2),
    ("after", HA_STEPS, True, 3), ("inside", HA_AWS_STEPS, True, 4),
])  # fmt: skip
def test_vpn_killed_at_every_step_and_restarted(procs: ProcStack, mode: str, steps: list[str],
                                                ha: bool, n: int) -> None:  # fmt: skip
    outcome = {"status": ACTIVE, "records": HA_ACTIVE if ha else VPN_ACTIVE, "vpc_routes": 1}
    _check(_vpn_chain(procs, mode, n, ha), steps, outcome)


@pytest.mark.parametrize(("mode", "steps", "ha", "n"), [
    ("after", VPN_TEARDOWN, False, 1), ("inside", VPN_TEARDOWN_AWS, False, 2),
    ("after", HA_TEARDOWN, True, 3), ("inside", HA_TEARDOWN_AWS, True, 4),
])  # fmt: skip
def test_vpn_deletion_killed_at_every_step_and_restarted(
    procs: ProcStack, mode: str, steps: list[str], ha: bool, n: int
) -> None:
    deleted = {**DELETED, "records": VPN_NOTHING}
    _check(_vpn_teardown_chain(procs, mode, n, ha), steps, deleted)


# --- region peering (``linkplane region peer``, a command: no workflow, no recovery) ---------
#: The AWS changes of a first ``region peer``, in order: the peering (requested, accepted),
#: each region's peering table, its association and its own pool route, then each customers
#: table's route to the other region's pool.
PEER_STEPS = ["CreateTransitGatewayPeeringAttachment", "AcceptTransitGatewayPeeringAttachment",
              "CreateTransitGatewayRouteTable", "AssociateTransitGatewayRouteTable",
              "CreateTransitGatewayRoute", "CreateTransitGatewayRouteTable",
              "AssociateTransitGatewayRouteTable", "CreateTransitGatewayRoute",
              "CreateTransitGatewayRoute", "CreateTransitGatewayRoute"]  # fmt: skip


class Killed(BaseException):
    """The process dies: no ``except`` of linkplane's catches it, so no undo runs and
    nothing is stored, as after a SIGKILL."""


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> PeerStack:
    return peer_stack(tmp_path_factory.mktemp("peer-crash"))


def _kill_after(monkeypatch: pytest.MonkeyPatch, peers: PeerStack, step: int, seen: list[str]
                ) -> None:  # fmt: skip
    """Die once the ``step``-th AWS change of the peers' account returned (AWS made it, the
    command has not noted it); every change made is appended to ``seen``."""
    from linkplane.cloud.aws import AwsCloud
    from linkplane.localcloud.throttle import action_class

    original = AwsCloud._call

    def call(self: AwsCloud, service: str, action: str, fn: Any) -> Any:
        result = original(self, service, action, fn)
        if self._known_account == peers.provider and action_class(action) == "mutating":
            seen.append(action)
            if len(seen) == step:
                raise Killed(action)
        return result

    monkeypatch.setattr(AwsCloud, "_call", call)


def test_region_peer_killed_after_every_aws_change_then_rerun(
    peers: PeerStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the 1st, 2nd... change of a first run, then run again: exactly one
    available peering and its routes each time (what the killed run made is adopted, never
    made twice); stopping when a run was not killed."""
    bootstrapped, killed_at = peers.state(), []
    for step in itertools.count(1):
        seen: list[str] = []
        with monkeypatch.context() as patch:
            _kill_after(patch, peers, step, seen)
            try:
                peers.peer()
            except Killed:
                killed_at.append(seen[-1])
            else:
                break
        assert peers.peer().peering.state == "available"  # the operator runs it again
        assert peers.state() == peers.peered(), f"after a kill at step {step}"
        peers.unpeer()
        assert peers.state() == bootstrapped
    assert killed_at == PEER_STEPS
    peers.unpeer()


#: The AWS changes of ``region unpeer``, in order: in each region the customers table's route
#: to the other region's pool and the peering table's association, then the peering.
UNPEER_STEPS = ["DeleteTransitGatewayRoute", "DisassociateTransitGatewayRouteTable",
                "DeleteTransitGatewayRoute", "DisassociateTransitGatewayRouteTable",
                "DeleteTransitGatewayPeeringAttachment"]  # fmt: skip


def test_region_unpeer_killed_after_every_aws_change_then_rerun(
    peers: PeerStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Peered, then ``region unpeer`` killed after its 1st, 2nd... change: the stored peering
    says it is being deleted, and a rerun leaves no peering and no route over it; stopping
    when a run was not killed."""
    bootstrapped, killed_at = peers.state(), []
    for step in itertools.count(1):
        peers.peer()
        seen: list[str] = []
        with monkeypatch.context() as patch:
            _kill_after(patch, peers, step, seen)
            try:
                peers.run_unpeer()
            except Killed:
                killed_at.append(seen[-1])
            else:
                break
        assert [p[3] for p in peers.stored_peerings()] == ["deleting"], f"step {step}"
        peers.run_unpeer()  # the operator runs it again
        assert peers.stored_peerings() == []
        assert peers.state() == peers.unpeered(), f"after a kill at step {step}"
    assert killed_at == UNPEER_STEPS
    assert peers.stored_peerings() == []
    assert peers.state() == peers.unpeered()
    peers.unpeer()
    assert peers.state() == bootstrapped


# --- a TGW breakout whose devices break out in the peered region: the cross-region steps ----
WEST = PEER_B
#: After "routing" (the routes recorded), each route over the peering is its own AWS step:
#: the device region's core table and core VPC, then the attachment region's peering table.
CROSSREGION_ROUTES = ["tgw route {cidr} in eu-west-1 {far_core}",
                      "vpc route {cidr} in eu-west-1 {far_vpc}",
                      "tgw route {cidr} in eu-central-1 {home_peering}"]  # fmt: skip


def _after_crossregion(steps: list[str]) -> list[str]:
    """After "routing" (which records the routes over the peering instead of activating),
    each route's step, then (a database step: in the ``after`` chain only) "activate"."""
    at = steps.index("routing") + 1
    activate = ["activate"] if "load" in steps else []
    return [*steps[:at], *CROSSREGION_ROUTES, *activate, *steps[at:]]


@pytest.fixture(scope="module")
def xprocs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    return proc_stack(tmp_path_factory.mktemp("crash-xr"), peer_with=WEST)


def _names(procs: ProcStack) -> dict[str, str]:
    from linkplane.regions.models import Region

    with procs.factory() as session:
        rows = {r.name: r for r in session.scalars(sa.select(Region))}
    return {"far_core": rows[WEST].core_route_table_id, "far_vpc": rows[WEST].core_vpc_id,
            "home_peering": str(rows[PEER_A].peering_route_table_id)}  # fmt: skip


def _crossregion_routes(procs: ProcStack, cidr: str) -> dict[str, int]:
    """The breakout's routes over the peering, in both regions."""
    from linkplane.cloud.factory import make_cloud

    names = _names(procs)
    west, home = make_cloud(procs.settings, WEST), make_cloud(procs.settings, PEER_A)
    main = west.main_route_table_id(names["far_vpc"])
    return {
        "far core": sum(r.cidr == cidr for r in west.search_routes(names["far_core"])),
        "far vpc": sum(r.cidr == cidr for r in west.vpc_routes(main)),
        "home peering": sum(r.cidr == cidr for r in home.search_routes(names["home_peering"])),
    }


def _xr_chain(procs: ProcStack, mode: str, n: int) -> Run:
    account, cidr = f"{620000000000 + n}", f"10.{240 + n}.0.0/24"
    bid = procs.create(account, [cidr])
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    visited, exits = _crash_until_done(procs, f"xr-{mode}", mode, f"breakout-{bid}-1",
                                       [customer], "--start", str(bid))  # fmt: skip
    found = counts(owned(inventory(procs.endpoint, account, procs.provider), account, bid, [cidr]))
    return Run(cidr, visited, exits, {"status": procs.status(bid), "records": found,
                                      "vpc_routes": procs.vpc_routes_to(cidr),
                                      "crossregion": _crossregion_routes(procs, cidr)})


@pytest.mark.parametrize(("mode", "steps", "n"), [("after", STEPS, 1), ("inside", AWS_STEPS, 2)])
def test_crossregion_breakout_killed_at_every_step_and_restarted(
    xprocs: ProcStack, mode: str, steps: list[str], n: int
) -> None:
    """Active, with its local routes and exactly one of each route over the peering."""
    run = _xr_chain(xprocs, mode, n)
    wanted = [s.format(cidr="{cidr}", **_names(xprocs)) for s in _after_crossregion(steps)]
    routes = dict.fromkeys(("far core", "far vpc", "home peering"), 1)
    # the inventory of the attachment region counts the peering table's route to the
    # customer attachment too
    records = {**ACTIVE_ONE_CIDR, "routes": 2}
    _check(run, wanted, {"status": ACTIVE, "records": records, "vpc_routes": 1,
                         "crossregion": routes})  # fmt: skip


#: The deletion undoes the routes over the peering first (reverse order), then forgets them.
CROSSREGION_UNROUTES = ["un" + s for s in reversed(CROSSREGION_ROUTES)]


def _xr_teardown_chain(procs: ProcStack, mode: str, n: int) -> Run:
    account, cidr = f"{630000000000 + n}", f"10.{250 + n}.0.0/24"
    bid = procs.create(account, [cidr])
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    with running(procs.data_dir, procs.env(f"xr-active-{n}"), "--start", str(bid)) as worker:
        drive_until([customer], lambda: procs.workflow_status(f"breakout-{bid}-1") == "SUCCESS",
                    worker=worker)  # fmt: skip
        worker.stop()
    assert procs.status(bid) == ACTIVE
    assert _crossregion_routes(procs, cidr) == dict.fromkeys(
        ("far core", "far vpc", "home peering"), 1)  # fmt: skip
    assert procs.delete(bid) == "teardown"
    wid = f"breakout-{bid}-1-delete"
    visited, exits = _crash_until_done(procs, f"xr-teardown-{mode}", mode, wid, [],
                                       "--delete", str(bid))  # fmt: skip
    found = counts(owned(inventory(procs.endpoint, account, procs.provider), account, bid, [cidr]))
    row = procs.row(bid)
    return Run(cidr, visited, exits, {"status": row.status_id, "reason": row.status_reason,
                                      "records": found, "vpc_routes": procs.vpc_routes_to(cidr),
                                      "problems": procs.problems(bid),
                                      "crossregion": _crossregion_routes(procs, cidr)})


@pytest.mark.parametrize(("mode", "steps", "n"), [
    ("after", [*CROSSREGION_UNROUTES, "forget crossregion", *TEARDOWN[1:]], 1),
    ("inside", [*CROSSREGION_UNROUTES, *TEARDOWN_AWS], 2),
])  # fmt: skip
def test_crossregion_breakout_deletion_killed_at_every_step_cleans_both_regions(
    xprocs: ProcStack, mode: str, steps: list[str], n: int
) -> None:
    run = _xr_teardown_chain(xprocs, mode, n)
    wanted = [s.format(cidr="{cidr}", **_names(xprocs)) for s in steps]
    if mode == "after":
        wanted.insert(0, "load")
    nothing = dict.fromkeys(("far core", "far vpc", "home peering"), 0)
    _check(run, wanted, {**DELETED, "crossregion": nothing})


# --- the sweep moving a cross-region breakout's routes (its devices' region changed) -------
#: The sweep's boundaries when it moves one breakout's routes: the moves recorded, each route
#: made or removed (its own AWS step), the result recorded, the core policy updated. Other
#: steps of the sweep (pending attachments, the Active ones' checks...) are not killed at.
REROUTE_ONLY = r"reroutes|rerouted \d+|update core policy|(un)?(tgw|vpc) route \S+ in .+"
NO_ROUTES = dict.fromkeys(("far core", "far vpc", "home peering"), 0)
EACH_ROUTE = dict.fromkeys(("far core", "far vpc", "home peering"), 1)


@pytest.fixture(scope="module")
def rprocs(tmp_path_factory: pytest.TempPathFactory) -> ProcStack:
    """As ``xprocs``, apart: its sweeps see only the rerouting tests' breakouts."""
    return proc_stack(tmp_path_factory.mktemp("crash-reroute"), peer_with=WEST)


def _own_organisation(procs: ProcStack, name: str, region: str) -> ProcStack:
    """``procs`` for a new organisation whose devices break out in ``region``: moving them
    moves only its breakouts' routes (not another test's)."""
    from linkplane.db import transaction
    from linkplane.profiles.models import ServiceProfile
    from linkplane.tenancy.models import Organisation

    with transaction(procs.factory) as session:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
        session.add(ServiceProfile(org_id=org.id, name="devices", breakout_region=region))
        org_id = int(org.id)
    return replace(procs, org_id=org_id)


def _devices_in(procs: ProcStack, region: str) -> None:
    """The organisation's devices now break out in ``region`` (its profile moved)."""
    from linkplane.db import transaction
    from linkplane.profiles.models import ServiceProfile

    with transaction(procs.factory) as session:
        session.execute(sa.update(ServiceProfile).where(ServiceProfile.org_id == procs.org_id)
                        .values(breakout_region=region))  # fmt: skip


def _system(procs: ProcStack, query: str, **params: Any) -> list[Any]:
    """Rows of a query of DBOS's system database (lists bind as ``IN`` lists)."""
    from linkplane.durable.config import system_database_url

    stmt = sa.text(query).bindparams(*(sa.bindparam(k, expanding=True) for k, v in
                                       params.items() if isinstance(v, list)))  # fmt: skip
    engine = sa.create_engine(system_database_url(procs.settings))
    try:
        with engine.connect() as conn:
            return list(conn.execute(stmt, params).all())
    finally:
        engine.dispose()


def _sweeps(procs: ProcStack, *states: str) -> int:
    """How many sweep workflows DBOS holds in one of ``states``."""
    return int(_system(procs, "SELECT count(*) FROM workflow_status WHERE name LIKE "
                       "'%sweep%' AND status IN :s", s=list(states))[0][0])  # fmt: skip


def _movers_finished(procs: ProcStack, steps: list[str]) -> bool:
    """Every sweep that ran one of ``steps`` (the move's) finished, and one did."""
    found = _system(procs, "SELECT DISTINCT s.workflow_uuid, s.status FROM operation_outputs o "
                    "JOIN workflow_status s ON s.workflow_uuid = o.workflow_uuid "
                    "WHERE o.function_name IN :n", n=steps)  # fmt: skip
    return bool(found) and all(status == "SUCCESS" for _wid, status in found)


def _moves_noted(procs: ProcStack, bid: int) -> int:
    from linkplane.events.models import Event

    stmt = sa.select(sa.func.count()).where(
        Event.entity_type == "breakout", Event.entity_id == bid,
        Event.description.like("Routes for devices in other regions follow%"))  # fmt: skip
    with procs.factory() as session:
        return int(session.scalar(stmt) or 0)


def _recorded_routes(procs: ProcStack, bid: int) -> int:
    from linkplane.attachments import crossregion

    return len(crossregion.recorded(procs.row(bid)))


def _reroute_until_done(
    procs: ProcStack, chain: str, mode: str, bid: int, cidr: str, routes: dict[str, int],
    notes: int, steps: list[str],
) -> tuple[list[str], list[int]]:
    """Restart a worker whose sweep is killed at each boundary of the move until the move is
    done (the routes and the row as wanted, its note made, every sweep that worked on it
    finished)."""
    marks, exits = procs.data_dir / chain, []
    # Every 3 s: a worker that restarts recovers each sweep it was running, while new ticks
    # start more; ticks much faster than a sweep would pile them up.
    env = procs.env(chain, breakout_sweep_interval_seconds=3)
    args = ["--sweep", "--crash-chain", str(marks), "--crash-mode", mode,
            "--crash-only", REROUTE_ONLY]  # fmt: skip

    def done() -> bool:
        return (_moves_noted(procs, bid) == notes
                and _recorded_routes(procs, bid) == sum(routes.values())
                and _crossregion_routes(procs, cidr) == routes
                and _movers_finished(procs, steps))  # fmt: skip

    while True:
        with running(procs.data_dir, env, *args) as worker:
            drive_until([], lambda: worker.proc.poll() is not None or done(), timeout=600)
            if worker.proc.poll() is not None:
                exits.append(worker.proc.returncode)
                continue
            exits.append(worker.stop())
            break
    return (marks.read_text().splitlines() if marks.exists() else []), exits


def _next_sweep(procs: ProcStack, executor: str) -> None:
    """One whole sweep more, in a worker that is not killed."""
    done = _sweeps(procs, "SUCCESS") + 2  # the one running when it starts may be half done
    env = procs.env(executor, breakout_sweep_interval_seconds=1)
    with running(procs.data_dir, env, "--sweep") as worker:
        drive_until([], lambda: _sweeps(procs, "SUCCESS") >= done, worker=worker)
        worker.stop()


@pytest.mark.timeout(1800)  # a dozen worker restarts, each recovering the sweeps it ran
@pytest.mark.parametrize(("mode", "n"), [("after", 1), ("inside", 2)])
def test_reroute_killed_at_every_step_then_restarted_moves_the_routes_exactly(
    rprocs: ProcStack, mode: str, n: int
) -> None:
    """An Active breakout whose devices break out in the peered region; they move home (the
    sweep removes its routes over the peering), then back (it makes them again). A sweep
    killed at each boundary of each move and restarted: after the restart and the next sweep
    the breakout is Active with exactly one of each wanted route in both regions and none of
    the old ones, no problem reported, one note per move."""
    procs = _own_organisation(rprocs, f"reroute-{mode}", WEST)
    account, cidr = f"{640000000000 + n}", f"10.{190 + n}.0.0/24"
    bid = procs.create(account, [cidr])
    customer = Customer(procs.endpoint, account, procs.tgw_id, cidr)
    with running(procs.data_dir, procs.env(f"reroute-active-{n}"), "--start", str(bid)) as w:
        drive_until([customer], lambda: procs.workflow_status(f"breakout-{bid}-1") == "SUCCESS",
                    worker=w)  # fmt: skip
        w.stop()
    assert procs.status(bid) == ACTIVE
    assert _crossregion_routes(procs, cidr) == EACH_ROUTE
    names = _names(procs)
    local = {"status": ACTIVE, "problems": [], "vpc_routes": 1,
             "records": counts(owned(inventory(procs.endpoint, account, procs.provider),
                                     account, bid, [cidr]))}  # fmt: skip
    for notes, (region, routes, prefix) in enumerate(
            [(PEER_A, NO_ROUTES, "un"), (WEST, EACH_ROUTE, "")], start=1):  # fmt: skip
        _devices_in(procs, region)
        labels = [prefix + s.format(cidr=cidr, **names) for s in CROSSREGION_ROUTES]
        visited, exits = _reroute_until_done(procs, f"reroute-{mode}-{n}-{notes}", mode, bid,
                                             cidr, routes, notes, labels)  # fmt: skip
        wanted = labels if mode == "inside" else [
            "reroutes", *labels, f"rerouted {bid}", "update core policy"]  # fmt: skip
        assert visited == wanted, (visited, exits)
        assert exits == [CRASH_EXIT] * len(wanted) + [0]
        _next_sweep(procs, f"reroute-next-{mode}-{n}-{notes}")
        # the attachment region's inventory counts the peering table's route while routed
        records = {**local["records"], "routes": 1 + routes["home peering"]}
        assert {"status": procs.status(bid), "problems": procs.problems(bid),
                "vpc_routes": procs.vpc_routes_to(cidr),
                "records": counts(owned(inventory(procs.endpoint, account, procs.provider),
                                        account, bid, [cidr]))} == {**local, "records": records}
        assert _crossregion_routes(procs, cidr) == routes
        assert _recorded_routes(procs, bid) == sum(routes.values())
        assert _moves_noted(procs, bid) == notes
