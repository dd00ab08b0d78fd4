"""The breakout test stack: embedded cloud (HTTP), real adapter, bootstrapped region, DBOS.

Imported by the ``test_breakouts_*`` modules (``from tests.test_breakouts_support import
stack``); one stack per test process: DBOS is a process-global singleton, launched on first
use and shut down at exit. Customers act with plain boto3 (``session_for``).
"""

from __future__ import annotations

import atexit
import dataclasses
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from linkplane.attachments.regions import RegionInfo
from linkplane.cloud.port import CloudPort
from linkplane.context import AppContext, open_context
from linkplane.durable.runtime import Runtime
from linkplane.localcloud import server
from linkplane.localcloud.accounts import session_for
from linkplane.process import hooks
from linkplane.process.app import create_app
from linkplane.settings import Settings
from linkplane.tenancy import service as tenancy
from linkplane.tenancy.principal import Role

PROVIDER = "111111111111"
REGION = "eu-central-1"
_accounts = itertools.count(300000000001)
_nets = itertools.count(1)


def new_account() -> str:
    return str(next(_accounts))


def new_cidrs(n: int = 1) -> list[str]:
    """Fresh, non-overlapping customer CIDRs (10.<k>.0.0/24 ...)."""
    return [f"10.{next(_nets)}.0.0/24" for _ in range(n)]


@dataclass
class Stack:
    settings: Settings
    ctx: AppContext
    endpoint_url: str
    client: TestClient
    region: RegionInfo
    provider: CloudPort
    org_id: int
    other_org_id: int
    #: Real bearer tokens (``Authorization`` headers): "admin" (the client's default),
    #: "observer" of the same organisation, "other" admin of ``other_org_id``.
    auth: dict[str, dict[str, str]]
    #: The durable runtime of this process (launched; its sweep is run by :meth:`sweep`).
    runtime: Runtime

    def customer(self, account: str, service: str) -> Any:
        session = session_for(account, region=REGION, endpoint_url=self.endpoint_url)
        return session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def create(self, account: str, cidrs: list[str], **extra: Any) -> dict[str, Any]:
        body = {"type": 1, "name": "b", "vpc_cidr": cidrs, "region": REGION,
                "aws_account_id": account, **extra}  # fmt: skip
        resp = self.client.post("/api/v1/cnc/breakout/tgw", json=body)
        assert resp.status_code == 201, resp.text
        data: dict[str, Any] = resp.json()
        return data

    def get(self, breakout_id: int) -> dict[str, Any]:
        resp = self.client.get(f"/api/v1/cnc/breakout/{breakout_id}")
        assert resp.status_code == 200, resp.text
        data: dict[str, Any] = resp.json()[0]
        return data

    def wait_for(
        self, breakout_id: int, pred: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """Poll the API until ``pred`` holds (the workflow runs in the background)."""
        end = time.monotonic() + timeout
        while True:
            data = self.get(breakout_id)
            if pred(data):
                return data
            if time.monotonic() > end:
                raise AssertionError(f"timed out; last state: {data}")
            time.sleep(0.05)

    def status(self, breakout_id: int, status_id: int, timeout: float = 30) -> dict[str, Any]:
        return self.wait_for(breakout_id, lambda d: d["status"]["id"] == status_id, timeout)

    def accept_invitation(self, account: str) -> None:
        ram = self.customer(account, "ram")
        invitations = ram.get_resource_share_invitations()["resourceShareInvitations"]
        pending = [i for i in invitations if i["status"] == "PENDING"]
        assert pending, invitations
        ram.accept_resource_share_invitation(
            resourceShareInvitationArn=pending[-1]["resourceShareInvitationArn"]
        )

    def reject_invitation(self, account: str) -> None:
        ram = self.customer(account, "ram")
        invitations = ram.get_resource_share_invitations()["resourceShareInvitations"]
        pending = [i for i in invitations if i["status"] == "PENDING"]
        ram.reject_resource_share_invitation(
            resourceShareInvitationArn=pending[-1]["resourceShareInvitationArn"]
        )

    def attach(self, account: str, cidr: str = "10.250.0.0/24") -> str:
        ec2 = self.customer(account, "ec2")
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        att = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=self.region.tgw_id, VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]
        attachment_id: str = att["TransitGatewayAttachmentId"]
        return attachment_id

    def sweep(self) -> None:
        from datetime import UTC, datetime

        from dbos import DBOS

        from linkplane.attachments.workflows.sweep import sweep

        DBOS.start_workflow(sweep, datetime.now(UTC), None).get_result()

    def core_routes(self) -> dict[str, tuple[str, ...]]:
        routes = self.provider.search_routes(self.region.core_route_table_id)
        return {r.cidr: r.attachment_ids for r in routes if r.type == "static"}

    def customers_associations(self) -> set[str]:
        assocs = self.provider.route_table_associations(self.region.customers_route_table_id)
        return {a.attachment_id for a in assocs if a.state in ("associated", "associating")}

    def shares(self) -> list[str]:
        return [s.arn for s in self.provider.list_resource_shares(tag_key="linkplane:breakout")
                if s.status not in ("DELETED", "DELETING")]  # fmt: skip


def _bootstrap(settings: Settings, ctx: AppContext, cloud: CloudPort) -> RegionInfo:
    from linkplane.regions import service as regions

    regions.bootstrap(factory=ctx.sessionmaker, cloud=cloud, settings=settings, region=REGION)
    with ctx.sessionmaker() as session:
        from linkplane.attachments.regions import region_info

        info = region_info(session=session, name=REGION)
    assert info is not None
    return info


def _orgs(settings: Settings, ctx: AppContext) -> tuple[int, int, dict[str, dict[str, str]]]:
    """Two organisations with real users; tokens minted as POST /authenticate would."""
    from linkplane.db import transaction

    users: dict[str, tuple[int, int, str]] = {}
    with transaction(ctx.sessionmaker) as session:
        for key, org_name in (("admin", "breakout-org-a"), ("other", "breakout-org-b")):
            org, admin = tenancy.create_org_with_admin(
                session=session, name=org_name, admin_email=f"{key}@breakouts.example.com",
                admin_password="breakout-tests-pw-1")  # fmt: skip
            users[key] = (org.id, admin.id, "admin")
        observer = tenancy.create_user(
            session=session, org_id=users["admin"][0], username="observer@breakouts.example.com",
            name="observer", role=Role.OBSERVER, password="breakout-tests-pw-1", principal=None,
        )  # fmt: skip
        users["observer"] = (users["admin"][0], observer.id, "observer")
    auth = {
        key: {"Authorization": "Bearer " + tenancy.mint(settings=settings, org_id=org_id,
                                                        role=role, user_id=user_id)}
        for key, (org_id, user_id, role) in users.items()
    }  # fmt: skip
    return users["admin"][0], users["other"][0], auth


def make_settings(data_dir: Path, endpoint: str, **overrides: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        cloud="embedded",
        aws_endpoint_url=endpoint,
        provider_account_id=PROVIDER,
        breakout_poll_initial_seconds=0.1,
        breakout_poll_max_seconds=0.5,
        breakout_watched_poll_max_seconds=0.5,  # own polls stay fast with the watch on too
        breakout_step_retry_seconds=0.05,
        breakout_step_max_attempts=3,
        aws_max_attempts=4,  # the one retry layer of AWS calls in workflow steps
        aws_backoff_base_seconds=0.01,
        dbos_executor_id="breakout-tests",
        executor_heartbeat_seconds=0.5,
        breakout_watch_interval_seconds=1.0,
        vpn_tunnel_watch_seconds=0,  # tests run the tunnel watch when they want (and faults
        # injected into DescribeVpnConnections stay for the workflow they aim at)
        breakout_cleanup_retry_seconds=0,  # a sweep retries a failed cleanup at once
        workflow_queue_polling_seconds=0.1,
        # Every CLI test signs in again from 127.0.0.1: the per-address budget (30 a minute,
        # tested in test_tenancy_auth) refused the later ones of a fast run with a 429.
        auth_attempts_per_minute=10_000,
        **overrides,
    )


_running: list[server.RunningCloud] = []


def _cloud() -> server.RunningCloud:
    """One embedded cloud per test process (its state is process-global anyway)."""
    if not _running:
        _running.append(server.start())
    return _running[0]


_stacks: list[Stack] = []


def _build(tmp: Path) -> Stack:
    from linkplane.cloud.factory import make_cloud

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    running = _cloud()
    settings = make_settings(tmp, running.endpoint_url)
    ctx = open_context(settings)
    provider = make_cloud(settings, REGION)
    info = _bootstrap(settings, ctx, provider)
    org_id, other, auth = _orgs(settings, ctx)
    hooks.register_reserved_cidrs()
    rt = Runtime.build(settings, ctx.sessionmaker)
    hooks.install_workflows(rt, sweep=False)  # the tests sweep when they want (Stack.sweep)
    rt.launch()
    atexit.register(rt.shutdown)
    app = create_app(settings, ctx.sessionmaker, rt.client)
    client = TestClient(app, headers=auth["admin"])
    return Stack(settings, ctx, running.endpoint_url, client, info, provider, org_id, other, auth,
                 rt)  # fmt: skip


@pytest.fixture
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """One stack per test process: the embedded cloud and DBOS are process-global; tests
    stay independent by using fresh accounts and CIDRs (:func:`new_account`, :func:`new_cidrs`).
    """
    if not _stacks:
        _stacks.append(_build(tmp_path_factory.mktemp("breakouts")))
    return _ensure_region(_stacks[0])


def _ensure_region(current: Stack) -> Stack:
    """Rebuild the provider side if another test module reset the (process-global, in-memory)
    embedded cloud since: what ``linkplane up`` does after the cloud restarted."""
    from linkplane.cloud.factory import make_cloud

    # A reset also forgets the assumed-role credentials: a fresh adapter assumes the role again.
    provider = make_cloud(current.settings, REGION)
    if provider.describe_transit_gateway(current.region.tgw_id) is not None:
        return current
    current.runtime.forget_clouds()  # the workflows' cached adapters hold forgotten credentials
    info = _bootstrap(current.settings, current.ctx, provider)
    _stacks[0] = dataclasses.replace(current, region=info, provider=provider)
    return _stacks[0]
