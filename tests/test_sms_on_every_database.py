"""The SMS, quota and callback paths on SQLite and on PostgreSQL (skipped without it):
the migration, held and delivered SMS, a quota cutting usage, and two workers racing for
one callback delivery (exactly one may lease it)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from linkplane.access.network import Network
from linkplane.callbacks import delivery as outbox
from linkplane.callbacks.models import ApiCallback, CallbackDelivery, ProfileCallback
from linkplane.callbacks.worker import policy_of
from linkplane.context import AppContext, open_context
from linkplane.db import transaction, utcnow
from linkplane.devices import service as devices
from linkplane.devices.schemas import EndpointCreate
from linkplane.devices.seed import seed_demo_fleet
from linkplane.profiles import service as profiles
from linkplane.quotas import service as quotas
from linkplane.quotas.models import QuotaKind
from linkplane.quotas.schemas import QuotaIn
from linkplane.settings import Settings
from linkplane.sims import importer
from linkplane.sims import service as sims
from linkplane.sms import device
from linkplane.sms import service as sms_service
from linkplane.sms.schemas import SmsIn
from linkplane.tenancy import service as tenancy
from linkplane.usage import service as usage
from tests.pgdb import own_database


@dataclass
class World:
    ctx: AppContext
    org_id: int
    endpoint_id: int
    profile_id: int


def _world(ctx: AppContext) -> World:
    tag = secrets.token_hex(4)
    n = secrets.randbelow(10**9)
    with transaction(ctx.sessionmaker) as session:
        org = tenancy.create_org(session=session, name=f"sms-{tag}")
        seed_demo_fleet(session=session, org_id=org.id)
        text = f"iccid,imsi,msisdn,bic\n8988303{n:012d},90143{n:010d},49{n:09d},B{tag}\n"
        sims.import_rows(session=session, org_id=org.id, rows=importer.parse(text))
        sim = sims.register_batch(session=session, org_id=org.id, bic=f"B{tag}", status=1)[0]
        sp = profiles.list_service_profiles(session=session, org_id=org.id)[0]
        tp = profiles.list_tariff_profiles(session=session, org_id=org.id)[0]
        sp.apply_data_quota = sp.apply_sms_quota = True
        ep = devices.create(session=session, org_id=org.id, data=EndpointCreate.model_validate(
            {"name": "meter", "status": {"id": 0}, "service_profile": {"id": sp.id},
             "tariff_profile": {"id": tp.id}, "sim": {"id": sim.id}}))  # fmt: skip
        return World(ctx, org.id, ep.id, sp.id)


@contextmanager
def _context(settings: Settings) -> Iterator[AppContext]:
    with ExitStack() as stack:
        if settings.database_url:
            own = stack.enter_context(own_database(settings.database_url, "linkplane_sms"))
            settings = settings.model_copy(update={"database_url": own})
        ctx = open_context(settings)
        stack.callback(ctx.close)
        yield ctx


@pytest.fixture
def world(any_db_settings: Settings) -> Iterator[World]:
    with _context(any_db_settings) as ctx:
        yield _world(ctx)


def _quota(w: World, kind: QuotaKind, volume: float) -> None:
    data = QuotaIn.model_validate({"status": {"id": 1}, "volume": volume,
                                   "expiry_date": utcnow() + timedelta(days=1)})  # fmt: skip
    with transaction(w.ctx.sessionmaker) as session:
        quotas.set_quota(session=session, org_id=w.org_id, endpoint_id=w.endpoint_id, kind=kind,
                         data=data)  # fmt: skip


def test_held_sms_is_delivered_once_the_quota_allows(world: World) -> None:
    w = world
    with transaction(w.ctx.sessionmaker) as session:
        sms = sms_service.submit(session=session, org_id=w.org_id, endpoint_id=w.endpoint_id,
                                 data=SmsIn(payload="hi"), validity=timedelta(hours=1))  # fmt: skip
        assert sms.status == 3  # held: the profile applies SMS quotas and there is none
    _quota(w, QuotaKind.SMS, 1)
    with transaction(w.ctx.sessionmaker) as session:
        got = device.receive(session=session, org_id=w.org_id, endpoint_id=w.endpoint_id,
                             network=Network())  # fmt: skip
        assert [s.id for s in got.delivered] == [sms.id]


def test_data_quota_cuts_usage(world: World) -> None:
    w = world
    _quota(w, QuotaKind.DATA, 1)
    row = usage.UsageIn(endpoint_id=w.endpoint_id, day=usage.today_utc(), bytes_tx=400_000,
                        bytes_rx=1_100_000)  # fmt: skip
    with transaction(w.ctx.sessionmaker) as session:
        result = usage.store_usage(session=session, rows=[row])
    assert [(r.refused_bytes, r.reason) for r in result.refused] == [
        (500_000, "its data quota is used up")]  # fmt: skip
    with w.ctx.sessionmaker() as session:
        stats = usage.endpoint_stats(session=session, org_id=w.org_id, endpoint_id=w.endpoint_id)
    assert stats.current.total == 1_000_000


def test_two_workers_racing_for_a_delivery_lease_it_once(world: World) -> None:
    w = world
    with transaction(w.ctx.sessionmaker) as session:
        cb = ApiCallback(org_id=w.org_id, url="https://hooks.example.com/")
        session.add(cb)
        session.flush()
        session.add(ProfileCallback(service_profile_id=w.profile_id, org_id=w.org_id,
                                    api_callback_id=cb.id))  # fmt: skip
    _quota(w, QuotaKind.SMS, 100)
    with transaction(w.ctx.sessionmaker) as session:
        sent = device.send(session=session, org_id=w.org_id, endpoint_id=w.endpoint_id,
                           payload="x", network=Network())  # fmt: skip
        assert sent.callback_queued and sent.sms is not None
        delivery_id = session.query(CallbackDelivery.id).filter_by(sms_id=sent.sms.id).scalar()
    policy = policy_of(w.ctx.settings)
    barrier = threading.Barrier(2)
    won: list[str] = []

    def race(owner: str) -> None:
        with transaction(w.ctx.sessionmaker) as session:
            barrier.wait()
            if outbox.lease(session=session, delivery_id=delivery_id, owner=owner,
                            now=utcnow(), policy=policy):  # fmt: skip
                won.append(owner)

    threads = [threading.Thread(target=race, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(won) == 1
    with w.ctx.sessionmaker() as session:
        assert session.get(CallbackDelivery, delivery_id).lease_owner == won[0]  # type: ignore[union-attr]


def test_concurrent_imports_never_spend_one_quota_twice(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL only (SQLite has one writer at a time): two deliveries of one endpoint's
    records at once are admitted one after the other against the quota."""
    with _context(Settings(data_dir=tmp_path / "data", database_url=postgres_url)) as ctx:
        w = _world(ctx)
        _quota(w, QuotaKind.DATA, 1.5)
        barrier = threading.Barrier(2)
        row = usage.UsageIn(endpoint_id=w.endpoint_id, day=usage.today_utc(), bytes_tx=0,
                            bytes_rx=1_000_000)  # fmt: skip

        def deliver() -> None:
            with transaction(w.ctx.sessionmaker) as session:
                barrier.wait()
                usage.store_usage(session=session, rows=[row])

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        with w.ctx.sessionmaker() as session:
            stats = usage.endpoint_stats(session=session, org_id=w.org_id,
                                         endpoint_id=w.endpoint_id)  # fmt: skip
            left = quotas.find(session=session, endpoint_id=w.endpoint_id, kind=QuotaKind.DATA)
            assert left is not None and left.remaining == 0
        assert stats.current.total == 1_500_000
