"""Breakout commands: one committed service change, then the workflow it calls for.

Every transport that changes a breakout (the HTTP API, the portal; the CLI goes through the
API) calls these instead of :mod:`linkplane.attachments.service` plus the workflows. Each
command owns its transaction: the change commits *first*, and only then is the workflow
started (deterministic id ``breakout-<id>-<rev>``, so a second start is a no-op) or
signalled, through ``workflows`` (a :class:`~linkplane.durable.client.WorkflowClient`: the
DBOS queue and messages; no workflow code runs here). A workflow therefore never runs ahead
of its row, and a start that fails or a crash between the commit and the start leaves a row
without a workflow, which the sweep starts (``workflows.recovery``; docs/cloud-connect.md).

``factory`` must be a :func:`linkplane.db.make_sessionmaker` factory (``expire_on_commit``
off): the returned row is detached and keeps the values it was committed with.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import records, service
from linkplane.attachments.models import Breakout
from linkplane.attachments.schemas import BreakoutTgwCreate, BreakoutVpnCreate
from linkplane.attachments.workflows import messages, recovery
from linkplane.attachments.workflows.recovery import Act, Repair
from linkplane.db import transaction
from linkplane.durable.client import WorkflowClient
from linkplane.logs import get_logger
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal

log = get_logger(__name__)


def _then(what: str, breakout_id: int, call: Callable[[], object]) -> None:
    """After the commit: a failed start or signal leaves the breakout to the sweep."""
    try:
        call()
    except Exception as exc:  # the row is stored; the sweep repairs it (see module doc)
        log.warning("workflow call failed after the commit; the sweep will repair it",
                    what=what, breakout_id=breakout_id, error=str(exc))  # fmt: skip


def request_breakout(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    data: BreakoutTgwCreate | BreakoutVpnCreate,
    workflows: WorkflowClient,
) -> Breakout:
    """Store a new TGW or VPN breakout (status 1), then start its provisioning workflow."""
    with transaction(factory) as session:
        if isinstance(data, BreakoutVpnCreate):
            row = service.create_vpn(session=session, settings=settings, principal=principal,
                                     data=data)  # fmt: skip
        else:
            row = service.create_tgw(session=session, settings=settings, principal=principal,
                                     data=data)  # fmt: skip
    _then("start", row.id, lambda: messages.start_provisioning(workflows, row.id, row.revision))
    return row


def retry_breakout(
    *, factory: sessionmaker[Session], settings: Settings, principal: Principal,
    breakout_id: int, workflows: WorkflowClient,
) -> Breakout:  # fmt: skip
    """Move an expired breakout to revision+1 (status 1), then start that revision's workflow."""
    with transaction(factory) as session:
        row = service.retry(session=session, settings=settings, principal=principal,
                            breakout_id=breakout_id)  # fmt: skip
    _then("start", row.id, lambda: messages.start_provisioning(workflows, row.id, row.revision))
    return row


def delete_breakout(
    *, factory: sessionmaker[Session], principal: Principal, breakout_id: int,
    workflows: WorkflowClient,
) -> Breakout:  # fmt: skip
    """Mark the breakout for deletion (status 6), then get the teardown going.

    A provisioning workflow that still runs is told to stop (it tears down what it made);
    otherwise (Active, expired) the deletion workflow is started.
    """
    with transaction(factory) as session:
        row, action = service.request_delete(session=session, principal=principal,
                                             breakout_id=breakout_id)  # fmt: skip
    if action is service.DeleteAction.SIGNAL_WORKFLOW:
        _then("signal", row.id, lambda: messages.signal(workflows, row.id, row.revision,
                                                         messages.DELETE))  # fmt: skip
    else:
        _then("teardown", row.id, lambda: messages.start_teardown(workflows, row.id,
                                                                  row.revision))  # fmt: skip
    return row


def recheck_breakout(
    *, factory: sessionmaker[Session], settings: Settings, principal: Principal,
    breakout_id: int, workflows: WorkflowClient,
) -> Breakout:  # fmt: skip
    """Make a breakout waiting for the customer (409 unless status 1/2) look at AWS now.

    Its workflow is woken; a breakout whose workflow never started or ended without
    finishing it (stranded) is repaired at once, as the sweep would (``workflows.recovery``).
    """
    with factory() as session:
        row = service.check_recheck(session=session, principal=principal,
                                    breakout_id=breakout_id)  # fmt: skip
    # States first, then the row (see workflows.recovery).
    probe = records.InFlight(row.id, row.revision, row.status_id, False, False)
    states = workflows.states(recovery.workflow_ids(probe))
    with transaction(factory) as session:
        repair, revision = _decide(session, settings, breakout_id, row.revision, states)
    if repair is None:
        messages.signal(workflows, row.id, row.revision, messages.WAKE)
        return row
    log.warning("recheck repairs a stranded breakout", breakout_id=row.id,
                action=str(repair.act), why=repair.why)  # fmt: skip
    if repair.act is Act.ROLLBACK:
        wid = messages.rollback_id(row.id, row.revision)
        workflows.start(messages.ROLLBACK, wid, row.id, row.revision, repair.why)
    else:
        messages.start_provisioning(workflows, row.id, revision)
    return row


def _decide(session: Session, settings: Settings, breakout_id: int, revision: int,
            states: dict[str, str]) -> tuple[Repair | None, int]:  # fmt: skip
    """The repair the row needs (applying a restart in this transaction) and the revision
    whose workflow must then start."""
    current = session.get(Breakout, breakout_id, with_for_update=True)
    if current is None or current.revision != revision:
        return None, revision  # moved on meanwhile: a workflow of its new revision runs
    repair = recovery.decide(records.in_flight_of(current), states)
    if repair is not None and repair.act is Act.RESTART:
        new = records.restart(session, breakout_id, revision, repair.why, settings)
        return (repair, new) if new is not None else (None, revision)
    if repair is not None and repair.act is Act.TEARDOWN:
        return None, revision  # not for a waiting breakout (status 1/2): no deletion asked
    return repair, revision
