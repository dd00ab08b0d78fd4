"""Operator blacklists of endpoints and operator/RAT blocklists of tariff profiles.

A device is refused a network (see ``linkplane.access``) when its endpoint blacklists the
operator, or its tariff profile blocks the operator completely or blocks that RAT on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkplane.blocklists.models import (
    EndpointOperatorBlacklist,
    TariffOperatorBlock,
    TariffRatBlock,
)
from linkplane.blocklists.rats import RatType, rat_type
from linkplane.devices import service as devices
from linkplane.devices.models import Endpoint
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.events.service import record
from linkplane.operators.service import Operator, get_operator
from linkplane.profiles import service as profiles
from linkplane.profiles.models import TariffProfile
from linkplane.tenancy.principal import Principal


@dataclass(frozen=True)
class BlockEntry:
    """What a tariff profile blocks on one operator's network."""

    tariff_profile_id: int
    operator: Operator
    operator_blocked: bool
    rat_types: tuple[RatType, ...]


def operator_or_404(operator_id: int) -> Operator:
    op = get_operator(operator_id)
    if op is None:
        raise NotFound(
            f"operator {operator_id} not found (GET /api/v1/operator lists them)",
            field="operator_id",
        )
    return op


# --- endpoint operator blacklist -----------------------------------------------------------


def endpoint_blacklist(*, session: Session, org_id: int, endpoint_id: int) -> list[Operator]:
    devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    stmt = select(EndpointOperatorBlacklist.operator_id).where(
        EndpointOperatorBlacklist.endpoint_id == endpoint_id
    )
    ids = sorted(session.scalars(stmt))
    return [op for op in (get_operator(i) for i in ids) if op is not None]


def _blacklist_row(session: Session, endpoint_id: int, operator_id: int) -> object | None:
    return session.get(EndpointOperatorBlacklist, (endpoint_id, operator_id))


def blacklist_operator(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    operator_id: int,
    principal: Principal | None = None,
) -> None:
    """Add the operator to the endpoint's blacklist (409 when it is already there)."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    op = operator_or_404(operator_id)
    if _blacklist_row(session, endpoint_id, operator_id) is not None:
        raise Conflict(
            f"operator {operator_id} is already on the blacklist of endpoint {endpoint_id}",
            field="operator_id",
        )
    session.add(
        EndpointOperatorBlacklist(endpoint_id=endpoint_id, operator_id=operator_id, org_id=org_id)
    )
    _record_blacklist(session, endpoint, op, "added to", principal)


def unblacklist_operator(
    *,
    session: Session,
    org_id: int,
    endpoint_id: int,
    operator_id: int,
    principal: Principal | None = None,
) -> None:
    """Remove the operator from the endpoint's blacklist (404 when it is not there)."""
    endpoint = devices.get_row(session=session, org_id=org_id, endpoint_id=endpoint_id)
    row = _blacklist_row(session, endpoint_id, operator_id)
    if row is None:
        raise NotFound(
            f"operator {operator_id} is not on the blacklist of endpoint {endpoint_id}",
            field="operator_id",
        )
    session.delete(row)
    op = get_operator(operator_id)
    _record_blacklist(session, endpoint, op, "removed from", principal, operator_id)


def _record_blacklist(
    session: Session,
    endpoint: Endpoint,
    op: Operator | None,
    verb: str,
    principal: Principal | None,
    operator_id: int | None = None,
) -> None:
    name = f"{op.name} ({op.country.name})" if op else f"operator {operator_id}"
    record(
        session=session,
        org_id=endpoint.org_id,
        event_type="Operator blacklist updated",
        description=f"{name} {verb} the operator blacklist of endpoint {endpoint.name!r}",
        principal=principal,
        entity_type="endpoint",
        entity_id=endpoint.id,
        detail={"operator_id": op.id if op else operator_id, "change": verb.split()[0]},
    )


# --- tariff profile operator and RAT blocklists --------------------------------------------


def _entry(session: Session, tariff_profile_id: int, op: Operator) -> BlockEntry:
    whole = session.get(TariffOperatorBlock, (tariff_profile_id, op.id)) is not None
    stmt = select(TariffRatBlock.rat_type_id).where(
        TariffRatBlock.tariff_profile_id == tariff_profile_id, TariffRatBlock.operator_id == op.id
    )
    rats = tuple(r for r in (rat_type(i) for i in sorted(session.scalars(stmt))) if r)
    return BlockEntry(tariff_profile_id, op, whole, rats)


def tariff_blocklist(*, session: Session, org_id: int, tariff_profile_id: int) -> list[BlockEntry]:
    """One entry per operator the profile blocks completely or on some RAT, by operator id."""
    profiles.get_tariff_profile(session=session, org_id=org_id, profile_id=tariff_profile_id)
    ops = set(
        session.scalars(
            select(TariffOperatorBlock.operator_id).where(
                TariffOperatorBlock.tariff_profile_id == tariff_profile_id
            )
        )
    )
    ops |= set(
        session.scalars(
            select(TariffRatBlock.operator_id).where(
                TariffRatBlock.tariff_profile_id == tariff_profile_id
            )
        )
    )
    found = (get_operator(i) for i in sorted(ops))
    return [_entry(session, tariff_profile_id, op) for op in found if op is not None]


def _target(
    session: Session, org_id: int, tariff_profile_id: int, operator_id: int
) -> tuple[TariffProfile, Operator]:
    """The organisation's tariff profile (404) and a known operator (404)."""
    tp = profiles.get_tariff_profile(session=session, org_id=org_id, profile_id=tariff_profile_id)
    return tp, operator_or_404(operator_id)


def tariff_block_entry(
    *, session: Session, org_id: int, tariff_profile_id: int, operator_id: int
) -> BlockEntry:
    _tp, op = _target(session, org_id, tariff_profile_id, operator_id)
    return _entry(session, tariff_profile_id, op)


def block_operator(
    *,
    session: Session,
    org_id: int,
    tariff_profile_id: int,
    operator_id: int,
    principal: Principal | None = None,
) -> None:
    """Block the operator completely (idempotent); RAT entries are kept as they are."""
    tp, op = _target(session, org_id, tariff_profile_id, operator_id)
    if session.get(TariffOperatorBlock, (tp.id, op.id)) is None:
        session.add(TariffOperatorBlock(tariff_profile_id=tp.id, operator_id=op.id, org_id=org_id))
        _record_tariff(session, tp.id, tp.name, org_id, f"{op.name} blocked", principal)


def unblock_operator(
    *,
    session: Session,
    org_id: int,
    tariff_profile_id: int,
    operator_id: int,
    principal: Principal | None = None,
) -> None:
    """Lift the complete block; RAT entries stay (as emnify documents)."""
    tp, op = _target(session, org_id, tariff_profile_id, operator_id)
    row = session.get(TariffOperatorBlock, (tp.id, op.id))
    if row is None:
        raise NotFound(
            f"operator {operator_id} is not blocked completely on tariff profile {tp.id}",
            field="operator_id",
        )
    session.delete(row)
    _record_tariff(session, tp.id, tp.name, org_id, f"{op.name} unblocked", principal)


def _rats_or_422(rat_ids: Sequence[int]) -> list[RatType]:
    if not rat_ids:
        raise InvalidInput("rat_types must name at least one RAT type", field="rat_types")
    rats: list[RatType] = []
    for index, rat_id in enumerate(rat_ids):
        rat = rat_type(rat_id)
        if rat is None:
            raise InvalidInput(
                f"unknown RAT type {rat_id} (GET /api/v1/rat_type lists them)",
                field=f"rat_types.{index}.id",
            )
        rats.append(rat)
    return rats


def block_rats(
    *,
    session: Session,
    org_id: int,
    tariff_profile_id: int,
    operator_id: int,
    rat_ids: Sequence[int],
    principal: Principal | None = None,
) -> None:
    """Block these RATs on the operator's network (already blocked ones are kept)."""
    tp, op = _target(session, org_id, tariff_profile_id, operator_id)
    rats = _rats_or_422(rat_ids)
    added = []
    for rat in {r.id: r for r in rats}.values():
        if session.get(TariffRatBlock, (tp.id, op.id, rat.id)) is None:
            session.add(
                TariffRatBlock(
                    tariff_profile_id=tp.id, operator_id=op.id, rat_type_id=rat.id, org_id=org_id
                )
            )
            added.append(rat.description)
    if added:
        what = f"{', '.join(added)} blocked on {op.name}"
        _record_tariff(session, tp.id, tp.name, org_id, what, principal)


def unblock_rat(
    *,
    session: Session,
    org_id: int,
    tariff_profile_id: int,
    operator_id: int,
    rat_id: int,
    principal: Principal | None = None,
) -> None:
    tp, op = _target(session, org_id, tariff_profile_id, operator_id)
    row = session.get(TariffRatBlock, (tp.id, op.id, rat_id))
    if row is None:
        raise NotFound(
            f"RAT type {rat_id} is not blocked on operator {operator_id} of tariff profile {tp.id}",
            field="rate_type_id",
        )
    session.delete(row)
    rat = rat_type(rat_id)
    what = f"{rat.description if rat else rat_id} unblocked on {op.name}"
    _record_tariff(session, tp.id, tp.name, org_id, what, principal)


def _record_tariff(
    session: Session,
    tp_id: int,
    tp_name: str,
    org_id: int,
    what: str,
    principal: Principal | None,
) -> None:
    record(
        session=session,
        org_id=org_id,
        event_type="Tariff profile blocklist updated",
        description=f"tariff profile {tp_name!r}: {what}",
        principal=principal,
        entity_type="tariff_profile",
        entity_id=tp_id,
    )


# --- enforcement ----------------------------------------------------------------------------


def blocked_reason(
    *, session: Session, endpoint: Endpoint, operator_id: int, rat_id: int
) -> str | None:
    """Why the endpoint may not attach to ``operator_id`` with ``rat_id``, or None."""
    if _blacklist_row(session, endpoint.id, operator_id) is not None:
        return f"operator {operator_id} is on the endpoint's operator blacklist"
    tp = endpoint.tariff_profile_id
    if session.get(TariffOperatorBlock, (tp, operator_id)) is not None:
        return f"operator {operator_id} is blocked by tariff profile {tp}"
    if session.get(TariffRatBlock, (tp, operator_id, rat_id)) is not None:
        rat = rat_type(rat_id)
        name = rat.description if rat else str(rat_id)
        return f"RAT {name} on operator {operator_id} is blocked by tariff profile {tp}"
    return None
