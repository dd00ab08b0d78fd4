"""The isolation test world: a bootstrapped region of a fresh provider account in the
embedded cloud, two organisations with devices, and Active breakouts built directly with the
cloud port (no DBOS: quick and deterministic) and recorded in breakout rows exactly as the
workflow records them.

Each :func:`world` uses its own provider account (the embedded cloud keeps state per
account), so worlds never see each other's Transit Gateways. Imported by
``tests/test_isolation_*.py``; holds no tests.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkplane.addressing.models import IpAddressSpace
from linkplane.attachments.models import Breakout, Status
from linkplane.cloud.aws import AwsCloud, SessionSource
from linkplane.cloud.factory import make_cloud
from linkplane.cloud.port import CloudPort
from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.devices.models import Endpoint
from linkplane.localcloud.accounts import session_for
from linkplane.localcloud.customer import Customer
from linkplane.profiles.models import ServiceProfile, TariffProfile
from linkplane.settings import Settings
from linkplane.sims.models import Sim, SimStatus
from linkplane.tenancy.models import Organisation
from tests.test_breakouts_support import _cloud

REGION = "eu-west-1"
_providers = itertools.count(444000000001)
_customers = itertools.count(555000000001)
_serial = itertools.count(1)


@dataclass
class Org:
    id: int
    name: str
    space: str
    endpoints: list[int] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    sims: list[int] = field(default_factory=list)


@dataclass
class World:
    settings: Settings
    ctx: AppContext
    endpoint_url: str
    provider: CloudPort
    region: Any  # linkplane.isolation.state.RegionSpec
    orgs: list[Org]
    breakouts: dict[int, int] = field(default_factory=dict)  # breakout id -> org id

    def cloud_for(self, region: str) -> CloudPort:
        return make_cloud(self.settings, region)

    def ec2(self) -> Any:
        """Plain boto3 as the provider account: drift made by hand, outside linkplane."""
        session = session_for(
            self.settings.provider_account_id, region=REGION, endpoint_url=self.endpoint_url
        )
        return session.client("ec2", endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def ram(self) -> Any:
        session = session_for(
            self.settings.provider_account_id, region=REGION, endpoint_url=self.endpoint_url
        )
        return session.client("ram", endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def customer(self, account: str) -> Customer:
        return Customer.assume(account, region=REGION, endpoint_url=self.endpoint_url)

    def attach_vpc(self, account: str, cidr: str) -> str:
        """A customer VPC attached to the TGW (pendingAcceptance), as the customer does it."""
        customer = self.customer(account)
        vpc = customer.create_vpc(cidr=cidr, azs=1)
        return customer.create_attachment(tgw_id=self.region.tgw_id, vpc_id=vpc.vpc_id)["id"]

    def provision(self, org: Org, cidrs: list[str]) -> int:
        """An Active breakout of ``org``: share, acceptance, attachment, association, routes."""
        account = str(next(_customers))
        with transaction(self.ctx.sessionmaker) as session:
            row = Breakout(org_id=org.id, name="b", region=REGION, aws_account_id=account,
                           vpc_cidrs=json.dumps(cidrs), status_id=Status.PENDING_CUSTOMER_ACTION,
                           description="", routes="[]")  # fmt: skip
            session.add(row)
            session.flush()
            bid = row.id
        p = self.provider
        share = p.ensure_resource_share(
            name=f"linkplane-breakout-{bid}", resource_arn=self.region.tgw_arn,
            principal=account, client_token=f"breakout-{bid}-1",
            tags={"linkplane:breakout": str(bid)},
        )  # fmt: skip
        self.customer(account).accept()
        att = self.attach_vpc(account, cidrs[0])
        p.accept_vpc_attachment(att)
        p.associate_route_table(route_table_id=self.region.customers_table_id, attachment_id=att)
        for cidr in cidrs:
            p.create_static_route(route_table_id=self.region.core_table_id, cidr=cidr,
                                  attachment_id=att)  # fmt: skip
        with transaction(self.ctx.sessionmaker) as session:
            row = session.get_one(Breakout, bid)
            row.status_id, row.tgw_id, row.share_arn = Status.ACTIVE, self.region.tgw_id, share.arn
            row.attachment_id = att
            row.associated_route_table_id = self.region.customers_table_id
            row.core_route_table_id = self.region.core_table_id
            row.routes = json.dumps(cidrs)
        self.breakouts[bid] = org.id
        return bid

    def deprovision(self, breakout_id: int) -> None:
        """Undo a breakout the way the teardown does, and mark it Deactivated."""
        with self.ctx.sessionmaker() as session:
            row = session.get_one(Breakout, breakout_id)
            cidrs, att, arn = row.route_list, row.attachment_id, row.share_arn
        p = self.provider
        for cidr in cidrs:
            p.delete_static_route(route_table_id=self.region.core_table_id, cidr=cidr)
        assert att is not None and arn is not None
        p.disassociate_route_table(route_table_id=self.region.customers_table_id,
                                   attachment_id=att)  # fmt: skip
        p.delete_vpc_attachment(att)
        p.delete_resource_share(share_arn=arn)
        with transaction(self.ctx.sessionmaker) as session:
            row = session.get_one(Breakout, breakout_id)
            row.status_id = Status.DEACTIVATED
            row.attachment_id = row.share_arn = row.associated_route_table_id = None
            row.routes = "[]"

    def set_sim(self, org: Org, index: int, status: SimStatus) -> None:
        with transaction(self.ctx.sessionmaker) as session:
            session.get_one(Sim, org.sims[index]).status = status


def _org(ctx: AppContext, name: str, space: str, devices: int) -> Org:
    net = space.rsplit(".", 1)[0]
    with transaction(ctx.sessionmaker) as session:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
        sp = ServiceProfile(org_id=org.id, name="cc", allow_cloud_connect=True)
        tp = TariffProfile(org_id=org.id, name="t")
        ipspace = IpAddressSpace(cidr=space, org_id=org.id)
        session.add_all([sp, tp, ipspace])
        session.flush()
        out = Org(org.id, name, space)
        for i in range(1, devices + 1):
            n = next(_serial)
            sim = Sim(org_id=org.id, iccid=f"8988{n:016d}", imsi=f"90143{n:010d}",
                      msisdn=f"4917{n:011d}", bic="bic", status=SimStatus.ACTIVATED)  # fmt: skip
            session.add(sim)
            session.flush()
            ip = f"{net}.{i}"
            ep = Endpoint(org_id=org.id, name=f"d{i}", service_profile_id=sp.id,
                          tariff_profile_id=tp.id, ip_address_space_id=ipspace.id,
                          ip_address=ip, sim_id=sim.id)  # fmt: skip
            session.add(ep)
            session.flush()
            out.endpoints.append(ep.id)
            out.ips.append(ip)
            out.sims.append(sim.id)
    return out


def make_world(tmp: Path, *, devices: int = 2) -> World:
    """A fresh provider account, its bootstrapped region and two organisations."""
    from linkplane.isolation.state import load_regions
    from linkplane.regions import service as regions

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    running = _cloud()
    settings = Settings(data_dir=tmp, cloud="embedded", aws_endpoint_url=running.endpoint_url,
                        provider_account_id=str(next(_providers)), default_region=REGION,
                        aws_max_attempts=2, aws_backoff_base_seconds=0.01)  # fmt: skip
    ctx = open_context(settings)
    provider = make_cloud(settings, REGION)
    regions.bootstrap(factory=ctx.sessionmaker, cloud=provider, settings=settings, region=REGION)
    with ctx.sessionmaker() as session:
        region = load_regions(session)[0]
    tag = next(_serial)
    orgs = [_org(ctx, f"iso-a-{tag}", f"100.64.{tag % 200}.0/24", devices),
            _org(ctx, f"iso-b-{tag}", f"100.65.{tag % 200}.0/24", devices)]  # fmt: skip
    return World(settings, ctx, running.endpoint_url, provider, region, orgs)


class CallCounter:
    """Counts AWS API calls by operation name with botocore's ``before-call`` event."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any = None, **_: Any) -> None:
        name = model.name if model is not None else "?"
        self.calls[name] = self.calls.get(name, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()


def counted_cloud(settings: Settings, region: str, counter: CallCounter) -> AwsCloud:
    """The provider's adapter whose session reports every API call to ``counter``."""
    from linkplane.cloud.factory import session_source

    inner = session_source(settings, region)

    def make() -> Any:
        session = inner.session()
        session.events.register("before-call.*.*", counter)
        return session

    return AwsCloud(SessionSource(make, inner.endpoint_url), region=region,
                    account_id=settings.provider_account_id)  # fmt: skip


def iter_routes(n: int) -> Iterator[str]:
    """``n`` distinct /28s in 172.16.0.0/12 (never a breakout CIDR of these tests)."""
    for i in range(n):
        yield f"172.{16 + i // 4096}.{(i // 16) % 256}.{(i % 16) * 16}/28"
