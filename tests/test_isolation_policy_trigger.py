"""Endpoint, SIM and service-profile changes made through the API reach the core policy file
promptly (linkplane/isolation/policy_trigger.py); unrelated changes do not signal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linkplane.context import AppContext
from linkplane.isolation import gateway
from linkplane.isolation.policy_trigger import PolicyApplier, watch
from linkplane.network.cidrs import ip_str
from linkplane.network.policy import parse_ruleset
from linkplane.settings import Settings
from linkplane.sims.models import Sim
from linkplane.tenancy.models import Organisation
from tests.pgdb import own_database
from tests.test_devices_support import Fleet, build_fleet, import_sims, make_org, sim_rows

WAIT = 30.0  # a bound for a loaded shared machine; a pass takes milliseconds here


def wait_for(what: str, check: Callable[[], bool], applier: PolicyApplier | None = None) -> None:
    """Poll ``check`` until true or fail after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > deadline:
            state = (
                ""
                if applier is None
                else (
                    f" (applier: {applier.applies} passes, {applier.failures} failed, "
                    f"alive {applier.alive})"
                )
            )
            pytest.fail(f"not within {WAIT:g} s: {what}{state}")
        time.sleep(0.02)


def allowed(settings: Settings) -> set[str]:
    """Device addresses the policy file on disk lets through."""
    path = gateway.policy_path(settings)
    if not path.exists():
        return set()
    return {ip_str(a) for a in parse_ruleset(path.read_text()).device_org}


@pytest.fixture
def applier(ctx: AppContext) -> Iterator[PolicyApplier]:
    running = PolicyApplier(settings=ctx.settings, factory=ctx.sessionmaker, debounce=0.05)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def live(ctx: AppContext, applier: PolicyApplier) -> Iterator[Fleet]:
    yield from build_fleet(ctx)


def test_fleet_changes_through_the_api_reach_the_policy_file(
    live: Fleet, applier: PolicyApplier, settings: Settings
) -> None:
    wait_for("the apply at start", lambda: applier.applies >= 1, applier)
    import_sims(live.ctx.sessionmaker, live.orgs["acme"], sim_rows(1, 1, "B1"))
    live.register("acme", "B1", 1)
    ep = live.new_endpoint(sim={"id": 1}).json()
    ip, path = ep["ip_address"], f"/api/v1/endpoint/{ep['id']}"
    wait_for("new eligible endpoint allowed", lambda: ip in allowed(settings), applier)

    assert live.patch("/api/v1/sim/1", {"status": {"id": 2}}).status_code == 204
    wait_for("suspended SIM dropped", lambda: ip not in allowed(settings), applier)
    assert live.patch("/api/v1/sim/1", {"status": {"id": 1}}).status_code == 204
    wait_for("re-activated SIM allowed", lambda: ip in allowed(settings), applier)

    assert live.patch(path, {"status": {"id": 1}}).status_code == 204
    wait_for("disabled endpoint dropped", lambda: ip not in allowed(settings), applier)
    assert live.patch(path, {"status": {"id": 0}}).status_code == 204
    wait_for("enabled endpoint allowed", lambda: ip in allowed(settings), applier)

    profile = f"/api/v1/service_profile/{ep['service_profile']['id']}"
    assert live.patch(profile, {"allow_cloud_connect": False}).status_code == 204
    wait_for("profile without Cloud Connect dropped", lambda: ip not in allowed(settings), applier)
    assert applier.failures == 0


def test_only_policy_relevant_commits_signal(ctx: AppContext) -> None:
    signals: list[int] = []
    unwatch = watch(ctx.sessionmaker, lambda: signals.append(1))
    try:
        for fleet in build_fleet(ctx):
            seeded = len(signals)  # each organisation's seeded profiles
            import_sims(ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
            assert len(signals) == seeded + 1  # bulk insert of SIMs (do_orm_execute)
            fleet.register("acme", "B1", 1)
            ep = fleet.new_endpoint(sim={"id": 1}).json()
            count = len(signals)
            # unrelated: a tariff profile, an endpoint's name and tags, a profile's name
            _, tp = fleet.profiles()
            assert fleet.patch(f"/api/v1/tariff_profile/{tp}", {"name": "t2"}).status_code == 204
            path = f"/api/v1/endpoint/{ep['id']}"
            assert fleet.patch(path, {"name": "renamed", "tags": "x"}).status_code == 204
            sp = ep["service_profile"]["id"]
            assert fleet.patch(f"/api/v1/service_profile/{sp}", {"name": "p2"}).status_code == 204
            assert len(signals) == count
            assert fleet.patch("/api/v1/sim/1", {"status": {"id": 2}}).status_code == 204
            assert len(signals) == count + 1
    finally:
        unwatch()


def test_a_rolled_back_change_does_not_signal(ctx: AppContext) -> None:
    org_id = make_org(ctx.sessionmaker, "acme", seed=False)
    signals: list[int] = []
    unwatch = watch(ctx.sessionmaker, lambda: signals.append(1))
    try:
        with ctx.sessionmaker() as session:
            session.add(Sim(org_id=org_id, iccid="1", imsi="1", msisdn="1", bic="B"))
            session.flush()  # marks the session
            session.rollback()
            session.add(Organisation(name="other"))  # same session, unrelated commit
            session.commit()
        assert signals == []
    finally:
        unwatch()


def test_a_savepoint_signals_nothing_until_the_transaction_commits(ctx: AppContext) -> None:
    """The endpoint insert runs in a savepoint (devices.service._flush): releasing it is not
    the commit. Signalling then let the applier read before the commit and lose the change
    under load; and a savepoint rolled back later must not forget an earlier marked flush."""
    org_id = make_org(ctx.sessionmaker, "acme", seed=False)
    signals: list[int] = []
    unwatch = watch(ctx.sessionmaker, lambda: signals.append(1))
    try:
        with ctx.sessionmaker() as session, session.begin():
            with session.begin_nested():
                session.add(Sim(org_id=org_id, iccid="1", imsi="1", msisdn="1", bic="B"))
            assert signals == []  # released, but nothing is committed yet
            nested = session.begin_nested()
            session.add(Organisation(name="other"))
            session.flush()
            nested.rollback()
            assert signals == []
        assert signals == [1]  # the commit, and the Sim flushed before the rollback counts
    finally:
        unwatch()


def test_one_watcher_per_sessionmaker(ctx: AppContext) -> None:
    unwatch = watch(ctx.sessionmaker, lambda: None)
    try:
        with pytest.raises(RuntimeError, match="already installed"):
            watch(ctx.sessionmaker, lambda: None)
    finally:
        unwatch()
    watch(ctx.sessionmaker, lambda: None)()  # removed: may be installed again


def test_a_failed_apply_is_logged_and_the_thread_goes_on(ctx: AppContext) -> None:
    bad = ctx.settings.model_copy(update={"core_gateway_netns": "lp-no-such-netns"})
    applier = PolicyApplier(settings=bad, factory=ctx.sessionmaker, debounce=0.01)
    applier.start()
    try:
        wait_for("the apply at start fails", lambda: applier.failures >= 1)
        applier.signal()
        wait_for("the next signal retries", lambda: applier.failures >= 2)
        assert applier.alive
    finally:
        applier.stop()


def test_stop_ends_the_thread_and_removes_the_hooks(ctx: AppContext) -> None:
    applier = PolicyApplier(settings=ctx.settings, factory=ctx.sessionmaker)
    applier.start()
    applier.stop()
    assert not applier.alive
    watch(ctx.sessionmaker, lambda: None)()  # the hooks are gone


# --- serve commits, a worker applies (PostgreSQL NOTIFY) --------------------------------------
@pytest.fixture
def pg_pair(postgres_url: str, tmp_path: Path) -> Iterator[tuple[AppContext, AppContext]]:
    """Two processes' contexts on one database of their own: ``serve`` and ``worker``."""
    from linkplane.context import open_context

    with own_database(postgres_url, "linkplane_policy") as url:
        serve = open_context(Settings(database_url=url, data_dir=tmp_path / "serve"))
        worker = open_context(Settings(database_url=url, data_dir=tmp_path / "worker"))
        try:
            yield serve, worker
        finally:
            serve.close()
            worker.close()


@pytest.mark.postgres
def test_fleet_changes_in_serve_reach_the_workers_policy(
    pg_pair: tuple[AppContext, AppContext],
) -> None:
    from linkplane.isolation.policy_trigger import notify_workers

    serve, worker = pg_pair
    applier = PolicyApplier(settings=worker.settings, factory=worker.sessionmaker,
                            debounce=0.05, listen=True)  # fmt: skip
    applier.start()
    unwatch = watch(serve.sessionmaker, notify_workers(serve.sessionmaker))
    fleets = build_fleet(serve)
    try:
        wait_for("the apply at start", lambda: applier.applies >= 1, applier)
        live = next(fleets)
        import_sims(serve.sessionmaker, live.orgs["acme"], sim_rows(1, 1, "N1"))
        live.register("acme", "N1", 1)
        ep = live.new_endpoint(sim={"id": 1}).json()
        ip = ep["ip_address"]
        # Only serve's sessions changed the fleet: the worker hears of it by NOTIFY alone.
        wait_for("new endpoint allowed by the worker",
                 lambda: ip in allowed(worker.settings), applier)  # fmt: skip
        sim_id = live.client.get(f"/api/v1/endpoint/{ep['id']}").json()["sim"]["id"]
        assert live.patch(f"/api/v1/sim/{sim_id}", {"status": {"id": 2}}).status_code == 204
        wait_for("suspended SIM dropped by the worker",
                 lambda: ip not in allowed(worker.settings), applier)  # fmt: skip
    finally:
        fleets.close()
        unwatch()
        applier.stop()
