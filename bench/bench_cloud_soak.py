"""Soak: the embedded cloud's memory with many customer accounts and breakout churn.

    .venv/bin/python bench/bench_cloud_soak.py                              # 2,000 / 1,000
    .venv/bin/python bench/bench_cloud_soak.py --accounts 200 --cycles 100  # quick
    .venv/bin/python bench/bench_cloud_soak.py --retention 30               # steady state

Starts ``linkplane cloud serve`` in its own process (as the benchmarks and ``linkplane up``
use it) and drives it with boto3 from this process:

1. accounts: for each of ``--accounts`` new customer accounts, STS assume-role into it, then
   one ``DescribeVpcs`` and one ``GetResourceShareInvitations`` (what a customer's first look
   costs the cloud: its EC2 and RAM backends come to life);
2. churn: ``--cycles`` create/delete cycles of one breakout each, cycling over those accounts:
   the AWS calls of provisioning (share, accept, VPC, subnet, attachment, accept, associate,
   TGW route, core-VPC route) and of the teardown (routes, disassociation, attachment, share,
   then the customer's subnet and VPC).

The cloud process's RSS (``/proc/PID/status`` VmRSS) is printed at intervals, with the
growth per account (phase 1) and per cycle (phase 2). Flat means the cloud keeps nothing per
deleted breakout. Nothing is asserted; this is a measurement.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from bench_breakouts import REGION, start_cloud

PROVIDER = "111111111111"
FIRST_ACCOUNT = 700000000000


def rss_mib(pid: int) -> float:
    """Resident set size of ``pid`` in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def clients(account: str, endpoint: str) -> tuple[Any, Any]:
    from linkplane.localcloud.accounts import session_for

    session = session_for(account, region=REGION, endpoint_url=endpoint)
    ec2, ram = (session.client(s, endpoint_url=endpoint) for s in ("ec2", "ram"))
    return ec2, ram


class Provider:
    """The provider's Transit Gateway, its two route tables and the core VPC."""

    def __init__(self, endpoint: str) -> None:
        self.ec2, self.ram = clients(PROVIDER, endpoint)
        tgw = self.ec2.create_transit_gateway(Options={
            "DefaultRouteTableAssociation": "disable", "DefaultRouteTablePropagation": "disable",
            "AutoAcceptSharedAttachments": "disable"})["TransitGateway"]  # fmt: skip
        self.tgw_id, self.tgw_arn = tgw["TransitGatewayId"], tgw["TransitGatewayArn"]
        self.core_rt = self._table()
        self.customers_rt = self._table()
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        tables = self.ec2.describe_route_tables(Filters=[
            {"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]  # fmt: skip
        self.core_vpc_table = tables[0]["RouteTableId"]

    def _table(self) -> str:
        made = self.ec2.create_transit_gateway_route_table(TransitGatewayId=self.tgw_id)
        return str(made["TransitGatewayRouteTable"]["TransitGatewayRouteTableId"])


def first_look(account: str, endpoint: str) -> tuple[Any, Any]:
    ec2, ram = clients(account, endpoint)
    ec2.describe_vpcs()
    ram.get_resource_share_invitations()
    return ec2, ram


def cycle(p: Provider, customer: tuple[Any, Any], account: str, k: int) -> None:
    """Provision one one-CIDR breakout at the AWS level, then tear it down."""
    ec2, ram = customer
    cidr = f"172.{16 + k // 256 % 16}.{k % 256}.0/24"
    share = p.ram.create_resource_share(
        name=f"soak-{k}", resourceArns=[p.tgw_arn], principals=[account],
        allowExternalPrincipals=True, clientToken=f"soak-{k}",
    )["resourceShare"]["resourceShareArn"]  # fmt: skip
    for inv in ram.get_resource_share_invitations()["resourceShareInvitations"]:
        if inv["status"] == "PENDING":
            ram.accept_resource_share_invitation(
                resourceShareInvitationArn=inv["resourceShareInvitationArn"])  # fmt: skip
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=p.tgw_id, VpcId=vpc, SubnetIds=[subnet]
    )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
    p.ec2.accept_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att)
    p.ec2.associate_transit_gateway_route_table(
        TransitGatewayRouteTableId=p.customers_rt, TransitGatewayAttachmentId=att)  # fmt: skip
    p.ec2.create_transit_gateway_route(
        DestinationCidrBlock=cidr, TransitGatewayRouteTableId=p.core_rt,
        TransitGatewayAttachmentId=att)  # fmt: skip
    p.ec2.create_route(RouteTableId=p.core_vpc_table, DestinationCidrBlock=cidr,
                       TransitGatewayId=p.tgw_id)  # fmt: skip
    # Teardown, as linkplane's compensations do it, then the customer's own clean-up.
    p.ec2.delete_route(RouteTableId=p.core_vpc_table, DestinationCidrBlock=cidr)
    p.ec2.delete_transit_gateway_route(TransitGatewayRouteTableId=p.core_rt,
                                       DestinationCidrBlock=cidr)  # fmt: skip
    p.ec2.disassociate_transit_gateway_route_table(
        TransitGatewayRouteTableId=p.customers_rt, TransitGatewayAttachmentId=att)  # fmt: skip
    p.ec2.delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att)
    p.ram.delete_resource_share(resourceShareArn=share)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=0, help="print RSS every K (default: 1/10)")
    parser.add_argument("--retention", type=float, default=None, help=(
        "seconds the cloud lists deleted attachments and shares before freeing them "
        "(LINKPLANE_CLOUD_RETENTION_SECONDS; default AWS's 2 hours)"))  # fmt: skip
    args = parser.parse_args()
    if args.retention is not None:  # the cloud process inherits the environment
        os.environ["LINKPLANE_CLOUD_RETENTION_SECONDS"] = str(args.retention)
    for key, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                       ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        os.environ.setdefault(key, value)
    proc, endpoint = start_cloud(throttled=False)
    try:
        run(proc.pid, endpoint, args.accounts, args.cycles, args.every)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def run(pid: int, endpoint: str, n_accounts: int, n_cycles: int, every: int) -> None:
    provider = Provider(endpoint)
    base = rss_mib(pid)
    print(f"cloud pid {pid}, RSS after provider bootstrap: {base:.0f} MiB")
    print("\n| phase | done | cloud RSS MiB | growth MiB | per item KiB | s |")
    print("|---|---:|---:|---:|---:|---:|")
    start = time.perf_counter()
    customers = []
    step = every or max(1, n_accounts // 10)
    for i in range(n_accounts):
        account = str(FIRST_ACCOUNT + i)
        customers.append((account, first_look(account, endpoint)))
        if (i + 1) % step == 0 or i + 1 == n_accounts:
            _row("accounts", i + 1, pid, base, start)
    after_accounts = rss_mib(pid)
    start = time.perf_counter()
    step = every or max(1, n_cycles // 10)
    for k in range(n_cycles):
        account, pair = customers[k % len(customers)]
        cycle(provider, pair, account, k)
        if (k + 1) % step == 0 or k + 1 == n_cycles:
            _row("churn", k + 1, pid, after_accounts, start)


def _row(phase: str, done: int, pid: int, base: float, start: float) -> None:
    now = rss_mib(pid)
    grown = now - base
    print(f"| {phase} | {done} | {now:.0f} | {grown:+.0f} | {grown * 1024 / done:+.1f} | "
          f"{time.perf_counter() - start:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
