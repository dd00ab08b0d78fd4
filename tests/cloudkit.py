"""Helpers for tests of the cloud adapter and the bootstrap against the embedded cloud."""

from __future__ import annotations

from typing import Any

from linkplane.cloud.aws import AwsCloud, SessionSource
from linkplane.cloud.ratelimit import RateLimiter
from linkplane.cloud.retry import RetryPolicy
from tests.localcloud import conftest as lc


def adapter(cloud: lc.Cloud, account: str = lc.PROVIDER, region: str = lc.REGION) -> AwsCloud:
    """The provider's adapter on the test cloud; fast retries, a private limiter."""
    return AwsCloud(
        SessionSource(lambda: cloud.session(account, region), cloud.endpoint_url),
        region=region,
        account_id=account,
        policy=RetryPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.05),
        limiter=RateLimiter(),
    )


def snapshot(cloud: lc.Cloud, account: str = lc.PROVIDER) -> dict[str, Any]:
    """Live provider resources, to compare before/after a failed run."""
    ec2 = cloud.client("ec2", account)
    gone = {"deleting", "deleted"}
    return {
        "tgws": sorted(
            t["TransitGatewayId"]
            for t in ec2.describe_transit_gateways()["TransitGateways"]
            if t["State"] not in gone
        ),
        "route_tables": sorted(
            t["TransitGatewayRouteTableId"]
            for t in ec2.describe_transit_gateway_route_tables()["TransitGatewayRouteTables"]
            if t["State"] not in gone
        ),
        "attachments": sorted(
            a["TransitGatewayAttachmentId"]
            for a in ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"]
            if a["State"] not in gone
        ),
        "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
        "subnets": sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]),
    }
