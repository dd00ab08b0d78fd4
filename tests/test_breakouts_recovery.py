"""What a stranded breakout needs (``workflows.recovery.decide``), case by case, and the
rule that a row which changed while the states were read waits for the next look."""

from __future__ import annotations

import pytest

from linkplane.attachments.models import Status
from linkplane.attachments.records import InFlight
from linkplane.attachments.workflows.recovery import Act, decide, find_stranded

S = Status


def _row(status: Status, *, restartable: bool = False, delete: bool = False) -> InFlight:
    return InFlight(7, 2, status, delete, restartable)


PROV, TD, RB = "breakout-7-2", "breakout-7-2-delete", "breakout-7-2-rollback"
DET = "breakout-7-2-detached"


@pytest.mark.parametrize(
    ("row", "states", "act"),
    [
        # Something works on it: leave it alone.
        (_row(S.PENDING_CUSTOMER_ACTION), {PROV: "PENDING"}, None),
        (_row(S.PENDING_CUSTOMER_ACTION), {PROV: "ENQUEUED"}, None),
        (_row(S.DEACTIVATION_PENDING, delete=True), {PROV: "PENDING"}, None),
        (_row(S.DEACTIVATION_PENDING, delete=True), {PROV: "SUCCESS", TD: "PENDING"}, None),
        (_row(S.ROLLING_BACK), {PROV: "ERROR", RB: "PENDING"}, None),
        # The sweep's clean-up of an attachment deleted outside linkplane (a race seen).
        (_row(S.DEACTIVATION_PENDING), {PROV: "SUCCESS", DET: "PENDING"}, None),
        # Its one rollback ran already (and failed): an operator's turn, audit reports it.
        (_row(S.ROLLING_BACK), {PROV: "ERROR", RB: "ERROR"}, None),
        # Never started.
        (_row(S.PENDING_CUSTOMER_ACTION, restartable=True), {}, Act.START),
        (_row(S.DEACTIVATION_PENDING, delete=True), {}, Act.TEARDOWN),
        # Ended without finishing it.
        (_row(S.PENDING_CUSTOMER_ACTION, restartable=True), {PROV: "ERROR"}, Act.RESTART),
        (_row(S.PENDING_CUSTOMER_ACTION), {PROV: "ERROR"}, Act.ROLLBACK),  # made something
        (_row(S.PENDING_CRG_ACTIVATION), {PROV: "ERROR"}, Act.ROLLBACK),
        (_row(S.PENDING_AWS_ACTIVATION), {PROV: "CANCELLED"}, Act.ROLLBACK),
        (_row(S.PENDING_EGN_ACTIVATION), {}, Act.ROLLBACK),
        (_row(S.DEACTIVATION_PENDING, delete=True), {PROV: "SUCCESS", TD: "ERROR"},
         Act.ROLLBACK),
    ],
)  # fmt: skip
def test_decide(row: InFlight, states: dict[str, str], act: Act | None) -> None:
    repair = decide(row, states)
    assert (repair.act if repair else None) == act


def test_a_row_that_changed_while_the_states_were_read_waits_for_the_next_look() -> None:
    before = [_row(S.PENDING_CUSTOMER_ACTION, restartable=True),
              InFlight(8, 1, S.PENDING_CUSTOMER_ACTION, False, True)]  # fmt: skip
    # Breakout 7's workflow made its share between the two reads; 8 is unchanged.
    after = [InFlight(7, 2, S.PENDING_CUSTOMER_ACTION, False, False), before[1]]
    found = find_stranded(before, {"breakout-7-2": "ERROR"}, after)
    assert [(r.row.breakout_id, r.act) for r in found] == [(8, Act.START)]
