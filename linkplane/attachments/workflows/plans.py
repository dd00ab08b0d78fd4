"""Attachment types as plans: each type is provisioned and undone by its own steps; the
workflows (provisioning, teardown, rollback) are the same for all of them.

A plan is loaded once per provisioning attempt, in the workflow's first step, and DBOS
checkpoints it: every later step and every replay sees the same plan. A type is a class
with the three methods below and a row in :data:`PLANS` (``TgwPlan``; ``VpnPlan`` for types
2 and 3), not a fork of the workflows.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from linkplane.attachments.models import Breakout, BreakoutType
from linkplane.attachments.records import Plan, Resources, Stop, StopKind
from linkplane.attachments.workflows.tgw import TgwPlan
from linkplane.attachments.workflows.vpn_plan import VpnPlan
from linkplane.durable.runtime import Runtime


class AttachmentPlan(Protocol):
    def plan(self, session: Session, row: Breakout, installation: str) -> Plan:
        """What provisioning this row needs (plain, picklable values)."""

    async def provision(self, rt: Runtime, plan: Plan) -> None:
        """Run the type's steps up to Active; raise Stop to end early (teardown follows)."""

    async def teardown(self, rt: Runtime, res: Resources) -> list[str]:
        """Undo what ``res`` records, in reverse; return the undos that failed."""


_VPN = VpnPlan()
PLANS: dict[int, AttachmentPlan] = {BreakoutType.TGW: TgwPlan(), BreakoutType.IPSEC_VPN: _VPN,
                                    BreakoutType.VPN_BGP: _VPN, BreakoutType.VPN_BGP_HA: _VPN}


def plan_for(type_id: int) -> AttachmentPlan:
    found = PLANS.get(type_id)
    if found is None:  # the API refuses such types; a row of one can only come from outside
        raise Stop(StopKind.FAILED, f"breakout type {type_id} cannot be provisioned")
    return found
