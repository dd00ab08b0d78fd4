"""The outbox of callback deliveries: enqueue (in the producer's transaction), find what is
due, lease it to one worker, and record each attempt's outcome with its event.

A delivery is leased before it is sent and its outcome recorded after, in two short
transactions; a worker that dies in between leaves the lease to run out, and the next
worker sends the same bytes again (at least once: receivers de-duplicate on
``delivery_id``). Retries back off exponentially up to a cap; after the last attempt, or on
an answer that retrying cannot fix (4xx other than 408/425/429, a refused URL), the
delivery fails for good. Every attempt is an event on the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from linkplane.callbacks import urls
from linkplane.callbacks.models import (
    ApiCallback,
    ApiSecret,
    CallbackDelivery,
    DeliveryState,
    ProfileCallback,
)
from linkplane.devices.models import Endpoint
from linkplane.events.service import record


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    backoff_base: float
    backoff_cap: float
    lease: timedelta

    def delay(self, attempt: int) -> timedelta:
        """Wait after failed attempt ``attempt`` (1-based): base, 2 base, 4 base, ... cap."""
        return timedelta(seconds=min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Target:
    url: str
    secret: str | None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None = None
    error: str | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def enqueue(
    *, session: Session, endpoint: Endpoint, sms_id: int, body: bytes, now: datetime
) -> CallbackDelivery | None:
    """Queue ``body`` for the endpoint's profile callback; None when it has no callback."""
    link = session.get(ProfileCallback, endpoint.service_profile_id)
    if link is None or link.api_callback_id is None:
        return None
    delivery = CallbackDelivery(
        org_id=endpoint.org_id,
        endpoint_id=endpoint.id,
        sms_id=sms_id,
        body=body.decode(),
        state=DeliveryState.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def due(*, session: Session, now: datetime, limit: int) -> list[int]:
    """Pending deliveries whose time has come and whose lease (if any) ran out."""
    stmt = select(CallbackDelivery.id).where(
        CallbackDelivery.state == DeliveryState.PENDING.value,
        CallbackDelivery.next_attempt_at <= now,
        or_(CallbackDelivery.lease_until.is_(None), CallbackDelivery.lease_until < now),
    )
    return list(session.scalars(stmt.order_by(CallbackDelivery.next_attempt_at).limit(limit)))


def lease(*, session: Session, delivery_id: int, owner: str, now: datetime, policy: Policy) -> bool:
    """Take the delivery for ``policy.lease`` unless another worker holds it (one UPDATE:
    of two workers racing for it, exactly one changes the row)."""
    stmt = (
        update(CallbackDelivery)
        .where(
            CallbackDelivery.id == delivery_id,
            CallbackDelivery.state == DeliveryState.PENDING.value,
            or_(CallbackDelivery.lease_until.is_(None), CallbackDelivery.lease_until < now),
        )
        .values(lease_until=now + policy.lease, lease_owner=owner)
    )
    return bool(getattr(session.execute(stmt), "rowcount", 0))


def target(*, session: Session, delivery: CallbackDelivery) -> Target | None:
    """Where the delivery goes now: the endpoint's service profile callback and secret."""
    endpoint = session.get(Endpoint, delivery.endpoint_id)
    link = session.get(ProfileCallback, endpoint.service_profile_id) if endpoint else None
    if link is None or link.api_callback_id is None:
        return None
    callback = session.get(ApiCallback, link.api_callback_id)
    secret = session.get(ApiSecret, link.api_secret_id) if link.api_secret_id else None
    if callback is None:
        return None
    return Target(callback.url, secret.secret if secret else None)


def cancel(*, session: Session, delivery: CallbackDelivery, now: datetime) -> None:
    """The profile no longer has a callback: nothing to deliver to."""
    delivery.state, delivery.finished_at, delivery.lease_until = (
        DeliveryState.CANCELED.value,
        now,
        None,
    )
    _event(
        session,
        delivery,
        "SMS callback failed",
        f"callback of SMS {delivery.sms_id} canceled: the service profile has no "
        "api_callback any more",
        severity=1,
        detail={"outcome": "canceled"},
    )


def record_attempt(
    *, session: Session, delivery: CallbackDelivery, outcome: Outcome, url: str,
    now: datetime, policy: Policy,
) -> None:  # fmt: skip
    """Count the attempt; delivered, retried later, or failed for good; one event each."""
    delivery.attempts += 1
    delivery.lease_until = delivery.lease_owner = None
    where = urls.shown(url)
    detail: dict[str, object] = {
        "delivery_id": delivery.id, "sms_id": delivery.sms_id, "attempt": delivery.attempts,
        "url": where, "status_code": outcome.status_code, "error": outcome.error,
    }  # fmt: skip
    if outcome.ok:
        delivery.state, delivery.finished_at = DeliveryState.DELIVERED.value, now
        delivery.last_error = None
        text = f"SMS {delivery.sms_id} delivered to {where} (attempt {delivery.attempts}, " \
            f"HTTP {outcome.status_code})"  # fmt: skip
        _event(session, delivery, "SMS callback delivered", text, severity=0, detail=detail)
        return
    what = f"HTTP {outcome.status_code}" if outcome.status_code else outcome.error
    delivery.last_error = what
    text = f"SMS {delivery.sms_id} to {where}, attempt {delivery.attempts}: {what}; " + \
        _after_failure(delivery, outcome, now, policy, detail)  # fmt: skip
    _event(session, delivery, "SMS callback failed", text, severity=1, detail=detail)


def _after_failure(delivery: CallbackDelivery, outcome: Outcome, now: datetime,
                   policy: Policy, detail: dict[str, object]) -> str:  # fmt: skip
    """Schedule the next attempt, or fail for good; what happens next, in words."""
    if outcome.retryable and delivery.attempts < policy.max_attempts:
        delivery.next_attempt_at = now + policy.delay(delivery.attempts)
        detail["next_attempt_at"] = delivery.next_attempt_at.isoformat()
        return f"retry at {delivery.next_attempt_at.isoformat()}"
    delivery.state, delivery.finished_at = DeliveryState.FAILED.value, now
    return "given up" if outcome.retryable else "not retried"


def _event(
    session: Session,
    delivery: CallbackDelivery,
    event_type: str,
    text: str,
    severity: int,
    detail: dict[str, object],
) -> None:
    record(
        session=session,
        org_id=delivery.org_id,
        event_type=event_type,
        description=text,
        entity_type="endpoint",
        entity_id=delivery.endpoint_id,
        severity=severity,
        source="api",
        actor="system",
        detail=detail,
    )
