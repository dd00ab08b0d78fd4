"""The worker that drains the callback outbox: ``linkplane up`` runs one in a thread,
``linkplane callbacks worker`` runs one as a process (any number may run at once: each
delivery is leased to one of them)."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from linkplane import __version__
from linkplane.callbacks import delivery as outbox
from linkplane.callbacks import signing, urls
from linkplane.callbacks.models import CallbackDelivery
from linkplane.db import transaction, utcnow
from linkplane.logs import get_logger
from linkplane.settings import Settings

log = get_logger(__name__)

#: Answers that may succeed when asked again; any other 4xx will not.
RETRYABLE_STATUS = frozenset({408, 425, 429})
BATCH = 50


class HttpSender:
    """POSTs one body to a vetted address of the URL (see ``urls``), no redirects."""

    def __init__(
        self,
        *,
        allowed: Sequence[urls.IPNetwork],
        timeout: float,
        resolver: urls.Resolver = socket.getaddrinfo,
    ) -> None:
        self._allowed, self._timeout, self._resolver = tuple(allowed), timeout, resolver

    def send(self, url: str, headers: dict[str, str], body: bytes) -> outbox.Outcome:
        try:
            pinned = urls.pin(url, self._allowed, self._resolver)
        except urls.UnsafeTarget as exc:
            return outbox.Outcome(error=f"refused: {exc}", retryable=False)
        extensions = {"sni_hostname": pinned.sni_hostname} if pinned.sni_hostname else None
        headers = {**headers, "Host": pinned.host_header}
        try:
            # No proxies from the environment (they would resolve the name themselves) and no
            # body read: only the status matters, and a receiver cannot make us buffer much.
            with (
                httpx.Client(timeout=self._timeout, follow_redirects=False, trust_env=False) as c,
                c.stream("POST", pinned.url, content=body, headers=headers,
                         extensions=extensions) as response,  # fmt: skip
            ):
                code = response.status_code
        except httpx.HTTPError as exc:
            return outbox.Outcome(error=f"{type(exc).__name__}: {exc}"[:300])
        retryable = code >= 500 or code in RETRYABLE_STATUS
        return outbox.Outcome(status_code=code, retryable=retryable)


Sender = Callable[[str, dict[str, str], bytes], outbox.Outcome]


def policy_of(settings: Settings) -> outbox.Policy:
    return outbox.Policy(
        max_attempts=settings.callback_max_attempts,
        backoff_base=settings.callback_backoff_base_seconds,
        backoff_cap=settings.callback_backoff_cap_seconds,
        # Longer than any attempt can take, so a live worker never loses its lease.
        lease=timedelta(seconds=3 * settings.callback_timeout_seconds + 30),
    )


def http_sender(settings: Settings) -> Sender:
    allowed = urls.parse_allowed(settings.callback_allowed_cidrs)
    return HttpSender(allowed=allowed, timeout=settings.callback_timeout_seconds).send


class CallbackWorker:
    def __init__(
        self,
        *,
        factory: sessionmaker[Session],
        settings: Settings,
        sender: Sender | None = None,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self._factory, self._clock = factory, clock
        self._sender = sender or http_sender(settings)
        self._policy = policy_of(settings)
        self._interval = settings.callback_poll_seconds
        self._owner = owner or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Attempt every delivery that is due now; how many were attempted."""
        with transaction(self._factory) as session:
            ids = outbox.due(session=session, now=self._clock(), limit=BATCH)
        return sum(1 for delivery_id in ids if self._attempt(delivery_id))

    def _prepare(self, delivery_id: int) -> tuple[outbox.Target, bytes, int] | None:
        with transaction(self._factory) as session:
            now = self._clock()
            if not outbox.lease(
                session=session,
                delivery_id=delivery_id,
                owner=self._owner,
                now=now,
                policy=self._policy,
            ):
                return None  # another worker took it
            row = session.get(CallbackDelivery, delivery_id)
            assert row is not None  # just leased
            where = outbox.target(session=session, delivery=row)
            if where is None:
                outbox.cancel(session=session, delivery=row, now=now)
                return None
            return where, row.body.encode(), row.attempts + 1

    def _attempt(self, delivery_id: int) -> bool:
        prepared = self._prepare(delivery_id)
        if prepared is None:
            return False
        where, body, attempt = prepared
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"linkplane/{__version__}",
            "X-Linkplane-Delivery": str(delivery_id),
            "X-Linkplane-Attempt": str(attempt),
        }
        if where.secret:
            headers["Authorization"] = signing.authorization(
                secret=where.secret,
                body=body,
                delivery_id=delivery_id,
                attempt=attempt,
                now=self._clock(),
            )
        outcome = self._sender(where.url, headers, body)
        log.info(
            "callback_attempt",
            delivery_id=delivery_id,
            attempt=attempt,
            url=urls.shown(where.url),
            status_code=outcome.status_code,
            error=outcome.error,
        )
        with transaction(self._factory) as session:
            row = session.get(CallbackDelivery, delivery_id)
            if row is None or row.lease_owner != self._owner:
                return True  # deleted meanwhile, or our lease ran out and was taken over
            outbox.record_attempt(
                session=session,
                delivery=row,
                outcome=outcome,
                url=where.url,
                now=self._clock(),
                policy=self._policy,
            )
        return True

    # --- as a thread ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="callbacks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_forever(self) -> None:
        """Drain until :meth:`stop` (or a signal that sets it) is called."""
        self._loop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception as exc:  # a database hiccup must not end the worker
                log.error("callback_worker_failed", error=str(exc))
                busy = 0
            if not busy:
                self._stop.wait(self._interval)
