"""Facts about a moto TGW attachment that AWS defines and moto does not track.

Attachments stay moto objects (``TransitGatewayVpcAttachment`` etc.) so moto's tagging and
peering code keep working; this module adds what AWS documents on top: when the state last
changed (rejected/deleted/failed attachments stay listed "for about two hours"), and how a
peering attachment looks from each of its two sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.core.utils import utcnow

from linkplane.localcloud import retention

#: States after which AWS stops using an attachment but keeps listing it for a while.
TERMINAL_STATES = frozenset({"deleted", "rejected", "failed"})
#: States in which traffic no longer flows (static routes to the attachment are blackholes).
DOWN_STATES = TERMINAL_STATES | {"deleting", "rejecting", "failing"}
#: "Rejected, failed and deleted attachments remain visible for about two hours" (AWS TGW
#: guide); :func:`linkplane.localcloud.retention.window` (the environment may shorten it).
RETENTION = retention.DEFAULT


@dataclass(frozen=True)
class Resource:
    """What an attachment connects, as seen from one of its gateways."""

    id: str
    type: str
    owner_id: str


def set_state(attachment: Any, state: str) -> None:
    attachment.state = state
    attachment.lp_state_since = utcnow()


def _state_since(attachment: Any) -> datetime:
    since: datetime = getattr(attachment, "lp_state_since", None) or attachment._created_at
    return since


def clock() -> datetime:
    """Now, as the attachment states see it (tests move it through ``model.utcnow``)."""
    moment: datetime = utcnow()
    return moment


def is_listed(attachment: Any) -> bool:
    """False once a terminal attachment has outlived AWS's retention window."""
    if attachment.state not in TERMINAL_STATES:
        return True
    return not is_expired(attachment, clock())


def is_expired(attachment: Any, now: datetime) -> bool:
    """A terminal attachment past the retention window: unlisted, and freed when reaped."""
    if attachment.state not in TERMINAL_STATES:
        return False
    return now >= _state_since(attachment) + retention.window()


def is_peering(attachment: Any) -> bool:
    return bool(attachment.resource_type == "peering")


def tgw_ids(attachment: Any) -> tuple[str, ...]:
    """Gateways the attachment belongs to: one, or both sides of a peering."""
    if is_peering(attachment):
        return (
            attachment.requester_tgw_info["TransitGatewayId"],
            attachment.accepter_tgw_info["TransitGatewayId"],
        )
    return (attachment.transit_gateway_id,)


def is_accepter_side(attachment: Any, account_id: str, region: str) -> bool:
    if not is_peering(attachment):
        return False
    info = attachment.accepter_tgw_info
    requester = attachment.requester_tgw_info
    same_side = info["OwnerId"] == requester["OwnerId"] and info["Region"] == requester["Region"]
    return not same_side and (info["OwnerId"], info["Region"]) == (account_id, region)


def tgw_id_for(attachment: Any, account_id: str, region: str) -> str:
    """The gateway this viewer sees the attachment on (the accepter sees its own gateway)."""
    if is_accepter_side(attachment, account_id, region):
        return str(attachment.accepter_tgw_info["TransitGatewayId"])
    return str(attachment.transit_gateway_id)


def resource_of(attachment: Any, tgw_id: str) -> Resource:
    """The resource behind the attachment, seen from gateway ``tgw_id``: for a peering, the
    other side's gateway."""
    if not is_peering(attachment):
        return Resource(
            attachment.resource_id, attachment.resource_type, attachment.resource_owner_id
        )
    accepter, requester = attachment.accepter_tgw_info, attachment.requester_tgw_info
    peer = requester if tgw_id == accepter["TransitGatewayId"] else accepter
    return Resource(peer["TransitGatewayId"], "peering", peer["OwnerId"])


def tgw_owner_of(attachment: Any, tgw_id: str) -> str:
    if is_peering(attachment) and tgw_id == attachment.accepter_tgw_info["TransitGatewayId"]:
        return str(attachment.accepter_tgw_info["OwnerId"])
    if is_peering(attachment):
        return str(attachment.requester_tgw_info["OwnerId"])
    # Attachments moto creates itself (VPN) are created by the gateway's owner.
    return str(getattr(attachment, "lp_tgw_owner_id", attachment.owner_id))
