"""The shared watch: one read per region wakes the breakouts whose customer acted.

Each waiting breakout polls for itself with a backoff that grows to
``breakout_poll_max_seconds`` (5 minutes by default): alone, it notices an accepted
invitation minutes late, and a thousand breakouts polling fast are a thousand AWS calls per
interval (the N = 1000 benchmark saturated on exactly that). Every
``breakout_watch_interval_seconds`` the watcher reads, per region where breakouts wait, all
principals of the provider's resource shares (one paginated GetResourceShareAssociations)
and the TGW's pending attachments (one DescribeTransitGatewayAttachments), and sends
``recheck`` to each workflow whose customer has acted. That workflow then polls at once and
decides durably, as before: the watcher changes *when* a breakout looks, never *what* it
decides. A lost wake costs latency only (the breakout's own poll still comes); a duplicate
(two executors both watching) costs one extra poll. With the watch on, a breakout's own
polls start at six watch intervals (``workflows.tgw._watched_interval``): the watch looks
for every breakout at once, so their own early polls were AWS calls that found nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments.models import Breakout, Status
from linkplane.attachments.workflows.messages import WAKE, signal
from linkplane.cloud.errors import CloudError
from linkplane.cloud.port import CloudPort
from linkplane.durable.client import WorkflowClient
from linkplane.durable.loop import Periodic
from linkplane.logs import get_logger

if TYPE_CHECKING:
    from linkplane.durable.runtime import Runtime

log = get_logger(__name__)

ACCEPTANCE, ATTACHMENT = "acceptance", "attachment"


@dataclass(frozen=True)
class Waiter:
    """A breakout waiting for its customer: to answer the invitation, or to attach."""

    breakout_id: int
    revision: int
    region: str
    account_id: str
    phase: str  # ACCEPTANCE | ATTACHMENT
    share_arn: str = ""
    tgw_id: str = ""


def waiting(session: Session) -> list[Waiter]:
    """Every breakout whose workflow waits for the customer (not expired, not deleting)."""
    # Columns, not rows: this runs every few seconds over possibly thousands of breakouts.
    stmt = select(Breakout.id, Breakout.revision, Breakout.region, Breakout.aws_account_id,
                  Breakout.status_id, Breakout.share_arn, Breakout.attachment_id,
                  Breakout.tgw_id).where(
        Breakout.status_id.in_([Status.PENDING_CUSTOMER_ACTION, Status.PENDING_AWS_ACTIVATION]),
        Breakout.expired.is_(False),
        Breakout.delete_requested.is_(False),
    )  # fmt: skip
    found = []
    for bid, rev, region, account, status, share_arn, attachment_id, tgw_id in session.execute(
        stmt
    ):
        if status == Status.PENDING_CUSTOMER_ACTION and share_arn:
            phase = ACCEPTANCE
        elif status == Status.PENDING_AWS_ACTIVATION and not attachment_id:
            phase = ATTACHMENT
        else:
            continue  # the share is not created yet: the workflow is busy, not waiting
        found.append(Waiter(bid, rev, region, account, phase, share_arn or "", tgw_id or ""))
    return found


def acted(port: CloudPort, waiters: list[Waiter]) -> list[Waiter]:
    """The waiters of one region whose customer answered the invitation or attached."""
    ready: list[Waiter] = []
    invited = [w for w in waiters if w.phase == ACCEPTANCE]
    if invited:
        # Only the unanswered invitations (RAM: ASSOCIATING): reading every association made
        # each pass grow with every share ever accepted, i.e. with the fleet, not the waiters.
        pending = {(a.share_arn, a.associated_entity)
                   for a in port.share_associations(status="ASSOCIATING")}  # fmt: skip
        ready += [w for w in invited if (w.share_arn, w.account_id) not in pending]
    attaching = [w for w in waiters if w.phase == ATTACHMENT]
    for tgw_id in {w.tgw_id for w in attaching}:
        found = port.list_attachments(tgw_id=tgw_id, states=["pendingAcceptance"],
                                      resource_type="vpc")  # fmt: skip
        owners = {a.resource_owner_id for a in found}
        ready += [w for w in attaching if w.tgw_id == tgw_id and w.account_id in owners]
    return ready


Wake = Callable[[Waiter], None]


def waker(client: WorkflowClient) -> Wake:
    """Wake a waiter's provisioning workflow through ``client``."""

    def wake(waiter: Waiter) -> None:
        signal(client, waiter.breakout_id, waiter.revision, WAKE)

    return wake


class Watcher:
    """A supervised thread (a service of the durable runtime: started at its launch,
    joined at its shutdown).

    A waiter already woken is not woken again for ``quiet`` seconds: its workflow needs a
    moment to poll and move on, and the watcher must not flood it meanwhile.
    """

    def __init__(
        self,
        *,
        interval: float,
        sessions: sessionmaker[Session],
        cloud: Callable[[str], CloudPort],
        wake: Wake,
    ) -> None:
        self.interval = interval
        self.quiet = max(30.0, 6 * interval)
        self._sessions, self._cloud, self._wake = sessions, cloud, wake
        self._woken: dict[Waiter, float] = {}
        self._loop = Periodic("breakout-watcher", interval, self.watch_once)

    @classmethod
    def for_runtime(cls, rt: Runtime) -> Watcher:
        return cls(interval=rt.settings.breakout_watch_interval_seconds, sessions=rt.sessions,
                   cloud=rt.clouds, wake=waker(rt.client))  # fmt: skip

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()

    def watch_once(self) -> list[Waiter]:
        """One pass over every region with waiters; returns the waiters it woke."""
        with self._sessions() as session:
            waiters = waiting(session)
        now = time.monotonic()
        self._woken = {w: t for w, t in self._woken.items() if now - t < self.quiet}
        woken: list[Waiter] = []
        for region, group in _by_region(waiters).items():
            try:
                ready = acted(self._cloud(region), group)
            except CloudError as exc:  # AWS trouble in one region must not stall the others
                log.warning("breakout watch: region unreadable", region=region, error=str(exc))
                continue
            woken += self._wake_all(w for w in ready if w not in self._woken)
        return woken

    def _wake_all(self, ready: Iterable[Waiter]) -> list[Waiter]:
        woken = []
        for waiter in ready:
            try:
                self._wake(waiter)
            except Exception as exc:  # e.g. the workflow just finished: nothing to wake
                log.info("breakout watch: wake not delivered",
                         breakout_id=waiter.breakout_id, error=str(exc))  # fmt: skip
                continue
            self._woken[waiter] = time.monotonic()
            woken.append(waiter)
        if woken:
            log.info("breakout watch woke waiting breakouts",
                     breakouts=[w.breakout_id for w in woken])  # fmt: skip
        return woken


def _by_region(waiters: list[Waiter]) -> dict[str, list[Waiter]]:
    groups: dict[str, list[Waiter]] = defaultdict(list)
    for waiter in waiters:
        groups[waiter.region].append(waiter)
    return groups
