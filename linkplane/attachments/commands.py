"""Breakout commands: one committed service change, then the workflow it calls for.

Every transport that changes a breakout (the HTTP API, the portal; the CLI goes through the
API) calls these instead of :mod:`linkplane.attachments.service` plus the workflow functions.
Each command owns its transaction: the change commits *first*, and only then is the
workflow started (deterministic id ``breakout-<id>-<rev>``, so a second start is a no-op) or
signalled. A workflow therefore never runs ahead of its row, and a crash between the commit
and the start leaves a row without a workflow, which the sweep starts
(``workflows._repair_orphans``; docs/cloud-connect.md).

``factory`` must be a :func:`linkplane.db.make_sessionmaker` factory (``expire_on_commit``
off): the returned row is detached and keeps the values it was committed with.

The workflows module (and with it DBOS) is imported only when a command runs, so importing
the API or the portal does not load the workflow engine.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import service
from linkplane.attachments.models import Breakout
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.db import transaction
from linkplane.settings import Settings
from linkplane.tenancy.principal import Principal


def request_breakout(
    *,
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    data: BreakoutTgwCreate,
) -> Breakout:
    """Store a new TGW breakout (status 1), then start its provisioning workflow."""
    from linkplane.attachments.workflows import start_provisioning

    with transaction(factory) as session:
        row = service.create_tgw(session=session, settings=settings, principal=principal,
                                 data=data)  # fmt: skip
    start_provisioning(row.id, row.revision)
    return row


def retry_breakout(
    *, factory: sessionmaker[Session], settings: Settings, principal: Principal, breakout_id: int
) -> Breakout:
    """Move an expired breakout to revision+1 (status 1), then start that revision's workflow."""
    from linkplane.attachments.workflows import start_provisioning

    with transaction(factory) as session:
        row = service.retry(session=session, settings=settings, principal=principal,
                            breakout_id=breakout_id)  # fmt: skip
    start_provisioning(row.id, row.revision)
    return row


def delete_breakout(
    *, factory: sessionmaker[Session], principal: Principal, breakout_id: int
) -> Breakout:
    """Mark the breakout for deletion (status 6), then get the teardown going.

    A provisioning workflow that still runs is told to stop (it tears down what it made);
    otherwise (Active, expired) the deletion workflow is started.
    """
    from linkplane.attachments.workflows import DELETE, signal, start_teardown

    with transaction(factory) as session:
        row, action = service.request_delete(session=session, principal=principal,
                                             breakout_id=breakout_id)  # fmt: skip
    if action is service.DeleteAction.SIGNAL_WORKFLOW:
        signal(row.id, row.revision, DELETE)
    else:
        start_teardown(row.id, row.revision)
    return row


def recheck_breakout(
    *, factory: sessionmaker[Session], principal: Principal, breakout_id: int
) -> Breakout:
    """Wake a breakout's wait for the customer so it polls AWS now (409 unless status 1/2)."""
    from linkplane.attachments.workflows import WAKE, signal

    with factory() as session:
        row = service.check_recheck(session=session, principal=principal,
                                    breakout_id=breakout_id)  # fmt: skip
    signal(row.id, row.revision, WAKE)
    return row
