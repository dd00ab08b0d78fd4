"""The whole of ``linkplane up`` for browser tests: embedded cloud, bootstrapped region,
breakout workflows (DBOS) and the API + portal on one port, plus customer-side helpers that
act as the customer's AWS account with plain boto3.

DBOS is a process-global singleton: one stack per test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from linkplane.api.app import create_app
from linkplane.context import AppContext, open_context
from linkplane.localcloud.accounts import session_for
from linkplane.settings import Settings
from tests.portal.harness import Org, seed_org, serve

PROVIDER = "111111111111"
REGION = "eu-central-1"


@dataclass
class CloudPortal:
    url: str
    ctx: AppContext
    endpoint_url: str
    orgs: dict[str, Org]

    def customer(self, account: str, service: str) -> Any:
        session = session_for(account, region=REGION, endpoint_url=self.endpoint_url)
        return session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def accept_invitation(self, account: str, share_arn: str) -> None:
        """What the page tells the customer: find the invitation of the share, accept it."""
        ram = self.customer(account, "ram")
        found = ram.get_resource_share_invitations(resourceShareArns=[share_arn])
        invitation = found["resourceShareInvitations"][0]["resourceShareInvitationArn"]
        ram.accept_resource_share_invitation(resourceShareInvitationArn=invitation)

    def attach_vpc(self, account: str, tgw_id: str, cidr: str) -> str:
        ec2 = self.customer(account, "ec2")
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        attachment = ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw_id, VpcId=vpc, SubnetIds=[subnet]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        return str(attachment)


def _settings(data_dir: Path, endpoint: str) -> Settings:
    # Workflow knobs turned down so a breakout becomes Active in seconds, not minutes.
    return Settings(
        data_dir=data_dir, aws_endpoint_url=endpoint, provider_account_id=PROVIDER,
        breakout_poll_initial_seconds=0.1, breakout_poll_max_seconds=0.5,
        breakout_step_retry_seconds=0.05, breakout_step_max_attempts=3,
        aws_max_attempts=2, aws_backoff_base_seconds=0.01,
        dbos_executor_id="portal-browser-tests", executor_heartbeat_seconds=0.5,
    )  # fmt: skip


@pytest.fixture(scope="module")
def cloud_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudPortal]:
    from linkplane.attachments import engine
    from linkplane.attachments.regions import region_info, register_region, unregister_regions
    from linkplane.cloud.factory import make_cloud
    from linkplane.localcloud import server
    from linkplane.regions import service as regions

    mp = pytest.MonkeyPatch()
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        mp.setenv(key, value)
    running = server.start()
    settings = _settings(tmp_path_factory.mktemp("cloud-portal"), running.endpoint_url)
    ctx = open_context(settings)
    cloud = make_cloud(settings, REGION)
    regions.bootstrap(factory=ctx.sessionmaker, cloud=cloud, settings=settings, region=REGION)
    with ctx.sessionmaker() as session:
        info = region_info(session=session, name=REGION)
    assert info is not None
    register_region(info)
    engine.launch(settings, factory=ctx.sessionmaker, schedule_sweep=False)
    orgs = {name: seed_org(ctx, name) for name in ("acme", "globex")}
    url, stop = serve(create_app(settings, ctx.sessionmaker))
    try:
        yield CloudPortal(url, ctx, running.endpoint_url, orgs)
    finally:
        stop()
        engine.shutdown()
        unregister_regions()
        ctx.close()
        running.stop()
        mp.undo()
