"""What the customer does in their own AWS account, with this breakout's ids filled in.

Only presentation: which of the three customer steps a breakout's status shows as done or
current. The ids (share ARN, transit gateway) are the ones the workflow recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from linkplane.attachments.models import Breakout, Status

WAITING_FOR_INVITATION = frozenset({Status.PENDING_CUSTOMER_ACTION})
ATTACHED = frozenset({Status.PENDING_EGN_ACTIVATION, Status.PENDING_CRG_ACTIVATION, Status.ACTIVE})


@dataclass(frozen=True)
class CustomerStep:
    title: str
    explanation: str
    commands: list[str]
    done: bool
    current: bool


def _accept(row: Breakout) -> CustomerStep:
    share = row.share_arn
    commands = (
        [
            "INVITATION=$(aws ram get-resource-share-invitations"
            f" --region {row.region} --resource-share-arns {share}"
            " --query 'resourceShareInvitations[0].resourceShareInvitationArn' --output text)",
            f"aws ram accept-resource-share-invitation --region {row.region}"
            ' --resource-share-invitation-arn "$INVITATION"',
        ]
        if share
        else []
    )
    explanation = (
        f"Account {row.aws_account_id} has an AWS RAM invitation to share transit gateway "
        f"{row.tgw_id}. Accept it:"
        if share
        else "The invitation is being prepared; this page updates when it is sent."
    )
    return CustomerStep(
        "Accept the resource share invitation", explanation, commands,
        done=row.status not in WAITING_FOR_INVITATION, current=row.status in WAITING_FOR_INVITATION,
    )  # fmt: skip


def _attach(row: Breakout) -> CustomerStep:
    cidrs = ", ".join(row.cidr_list)
    command = (
        f"aws ec2 create-transit-gateway-vpc-attachment --region {row.region}"
        f" --transit-gateway-id {row.tgw_id} --vpc-id <your-vpc-id>"
        " --subnet-ids <one-subnet-id-per-availability-zone>"
    )
    return CustomerStep(
        "Attach your VPC to the transit gateway",
        f"Attach the VPC whose CIDR is {cidrs} (one subnet in each Availability Zone you "
        "use). linkplane accepts the attachment and routes it.",
        [command],
        done=row.status in ATTACHED,
        current=row.status is Status.PENDING_AWS_ACTIVATION and not row.expired,
    )


def _route(row: Breakout, device_cidr: str) -> CustomerStep:
    command = (
        f"aws ec2 create-route --region {row.region} --route-table-id <your-route-table-id>"
        f" --destination-cidr-block {device_cidr} --transit-gateway-id {row.tgw_id}"
    )
    return CustomerStep(
        "Route the device address space to the transit gateway",
        f"In every route table of your VPC whose subnets talk to your devices, send "
        f"{device_cidr} (your devices' addresses) to the transit gateway:",
        [command],
        done=False,
        current=row.status in ATTACHED,
    )


def customer_steps(row: Breakout, device_cidr: str) -> list[CustomerStep]:
    """The customer's to-do list while the breakout is being set up or in use (none for a
    VPN breakout: linkplane creates everything; the router's configuration is shown)."""
    if row.is_vpn or row.expired or row.status in (
        Status.DEACTIVATION_PENDING,
        Status.DEACTIVATED,
        Status.ROLLING_BACK,
    ):
        return []
    return [_accept(row), _attach(row), _route(row, device_cidr)]
