"""Names, ids and messages of the breakout workflows, and how a transport starts or signals
them. No workflow code: the API (``serve``) and the watcher import this, never the
workflows themselves.

Ids are deterministic, so a second start of the same thing is a no-op:
``breakout-<id>-<rev>`` provisions revision ``rev``; ``...-delete`` tears down an Active or
expired one; ``...-detached`` cleans up after the customer deleted its attachment;
``...-rollback`` undoes a revision whose provisioning workflow failed.
"""

from __future__ import annotations

from linkplane.attachments.models import workflow_id
from linkplane.durable.client import WorkflowClient

#: Messages to a provisioning workflow (``send(wf_id, msg, TOPIC)``).
TOPIC = "breakout"
WAKE = "recheck"
DELETE = "delete"

#: Registered workflow names (recorded with every workflow: never rename).
PROVISION = "breakout.provision"
DELETION = "breakout.delete"
DETACHED = "breakout.detached"
ROLLBACK = "breakout.rollback"
SWEEP = "breakout.sweep"


def provision_id(breakout_id: int, revision: int) -> str:
    return workflow_id(breakout_id, revision)


def teardown_id(breakout_id: int, revision: int) -> str:
    return f"{workflow_id(breakout_id, revision)}-delete"


def detached_id(breakout_id: int, revision: int) -> str:
    return f"{workflow_id(breakout_id, revision)}-detached"


def rollback_id(breakout_id: int, revision: int) -> str:
    return f"{workflow_id(breakout_id, revision)}-rollback"


def start_provisioning(client: WorkflowClient, breakout_id: int, revision: int) -> str:
    """Start (idempotently: the id is deterministic) the provisioning workflow."""
    wid = provision_id(breakout_id, revision)
    client.start(PROVISION, wid, breakout_id, revision)
    return wid


def start_teardown(client: WorkflowClient, breakout_id: int, revision: int) -> str:
    wid = teardown_id(breakout_id, revision)
    client.start(DELETION, wid, breakout_id, revision)
    return wid


def signal(client: WorkflowClient, breakout_id: int, revision: int, message: str) -> None:
    """Wake a waiting provisioning workflow (``recheck``) or tell it to stop (``delete``)."""
    client.send(provision_id(breakout_id, revision), message, TOPIC)
