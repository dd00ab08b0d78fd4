"""IP address spaces and allocation: lowest free address, never twice, also concurrently."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from ipaddress import IPv4Network

import pytest
from sqlalchemy.orm import Session

from linkplane.addressing import service as addressing
from linkplane.context import AppContext, open_context
from linkplane.db import transaction
from linkplane.devices import service as devices
from linkplane.devices.schemas import EndpointCreate
from linkplane.errors import Conflict, InvalidInput, NotFound
from linkplane.settings import Settings
from tests.pgdb import own_database
from tests.test_devices_support import Fleet, fleet, make_org

__all__ = ["fleet"]
POSTGRES_URL = os.environ.get("LINKPLANE_TEST_POSTGRES_URL", "")
DEVICE_CIDR = "100.64.0.0/10"


def _create_body(ctx: AppContext, org_id: int) -> EndpointCreate:
    with ctx.sessionmaker() as s:
        from linkplane.profiles import service as profiles

        sp = profiles.list_service_profiles(session=s, org_id=org_id)[0].id
        tp = profiles.list_tariff_profiles(session=s, org_id=org_id)[0].id
    return EndpointCreate.model_validate(
        {"status": {"id": 0}, "service_profile": {"id": sp}, "tariff_profile": {"id": tp}}
    )


def _concurrent_creates(ctx: AppContext, threads: int = 20, each: int = 3) -> list[str]:
    org_id = make_org(ctx.sessionmaker, f"org-{uuid.uuid4().hex[:6]}")
    body = _create_body(ctx, org_id)
    ips: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(each):
                with transaction(ctx.sessionmaker) as session:
                    ep = devices.create(session=session, org_id=org_id, data=body)
                    ip = ep.ip_address
                assert ip is not None
                ips.append(ip)
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    return ips


def test_concurrent_creates_on_one_sqlite_file_never_share_an_address(ctx: AppContext) -> None:
    ips = _concurrent_creates(ctx)
    assert len(ips) == 60 and len(set(ips)) == 60
    # Lowest free first: together they fill .1 to .60 without a gap.
    assert sorted(int(ip.rsplit(".", 1)[1]) for ip in ips) == list(range(1, 61))


@pytest.fixture
def pg_ctx(tmp_path: object) -> Iterator[AppContext]:
    if not POSTGRES_URL:
        pytest.skip("set LINKPLANE_TEST_POSTGRES_URL to run PostgreSQL tests")
    with own_database(POSTGRES_URL, "lp_fleet") as url:
        ctx = open_context(Settings(database_url=url))
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.mark.postgres
def test_concurrent_creates_on_postgresql_never_share_an_address(pg_ctx: AppContext) -> None:
    ips = _concurrent_creates(pg_ctx)
    assert len(ips) == 60 and len(set(ips)) == 60


def _space(session: Session, cidr: str, org_id: int | None = None) -> addressing.IpAddressSpace:
    return addressing.create_space(
        session=session, device_cidr=DEVICE_CIDR, cidr=cidr, org_id=org_id
    )


def test_free_list_reuse_full_space_and_reservations(ctx: AppContext) -> None:
    with transaction(ctx.sessionmaker) as s:
        space = _space(s, "100.70.0.0/29")  # 6 hosts
        got = [addressing.allocate(session=s, space=space) for _ in range(3)]
        assert got == ["100.70.0.1", "100.70.0.2", "100.70.0.3"]
        assert addressing.reserve(session=s, space=space, address="100.70.0.5") == "100.70.0.5"
        with pytest.raises(Conflict):
            addressing.reserve(session=s, space=space, address="100.70.0.2")
        with pytest.raises(InvalidInput):
            addressing.reserve(session=s, space=space, address="100.70.0.7")  # broadcast
        addressing.release_address(session=s, space_id=space.id, address="100.70.0.2")
        got = [addressing.allocate(session=s, space=space) for _ in range(3)]
        assert got == ["100.70.0.2", "100.70.0.4", "100.70.0.6"]
        with pytest.raises(NotFound, match="full"):
            addressing.allocate(session=s, space=space)
        s.refresh(space)
        assert space.used_count == 6 and addressing.available_count(space) == 0


def test_spaces_never_overlap_each_other_or_reserved_cidrs(ctx: AppContext) -> None:
    def breakouts(_session: Session) -> list[tuple[str, IPv4Network]]:
        return [("breakout 7", IPv4Network("100.80.0.0/16"))]

    addressing.register_reserved_cidr_source(breakouts)
    try:
        with transaction(ctx.sessionmaker) as s:
            _space(s, "100.70.0.0/24")
            with pytest.raises(Conflict, match="overlaps"):
                _space(s, "100.70.0.128/25")
            with pytest.raises(InvalidInput, match="breakout 7"):
                _space(s, "100.80.1.0/24")
            for bad in ("10.0.0.0/24", "100.70.0.1/24", "100.90.0.0/31", "nonsense"):
                with pytest.raises(InvalidInput):
                    _space(s, bad)
            free = addressing.first_free_subnet(session=s, device_cidr=DEVICE_CIDR)
            assert free == IPv4Network("100.64.0.0/24")
            with pytest.raises(InvalidInput, match="overlaps the device IP address space"):
                addressing.ensure_no_overlap_with_device_spaces(
                    session=s, cidrs=[IPv4Network("100.70.0.0/16")], field="vpc_cidr"
                )
            addressing.ensure_no_overlap_with_device_spaces(
                session=s, cidrs=[IPv4Network("10.1.0.0/16")], field="vpc_cidr"
            )
    finally:
        addressing._reserved_sources.remove(breakouts)


def test_assigned_device_cidrs_lists_org_spaces(ctx: AppContext) -> None:
    org_id = make_org(ctx.sessionmaker, "acme")  # seeded with 100.64.0.0/24
    with transaction(ctx.sessionmaker) as s:
        _space(s, "100.70.0.0/24")  # pool, unassigned
        assert addressing.assigned_device_cidrs(session=s) == [
            (org_id, IPv4Network("100.64.0.0/24"))
        ]


def test_space_api_list_available_assign_release_create(fleet: Fleet) -> None:
    with transaction(fleet.ctx.sessionmaker) as s:
        pool = _space(s, "100.70.0.0/24")
    avail = fleet.get("/api/v1/ip_address_space/available").json()
    assert [a["ip_address_space"] for a in avail] == ["100.70.0.0/24"]
    assert fleet.put(f"/api/v1/ip_address_space/{pool.id}", role="observer").status_code == 403
    assert fleet.put(f"/api/v1/ip_address_space/{pool.id}").status_code == 204
    assert fleet.put(f"/api/v1/ip_address_space/{pool.id}", org="globex").status_code == 404
    assert fleet.get("/api/v1/ip_address_space/available").json() == []
    mine = [s["ip_address_space"] for s in fleet.get("/api/v1/ip_address_space").json()]
    assert mine == ["100.64.0.0/24", "100.70.0.0/24"]
    seeded = fleet.get("/api/v1/ip_address_space").json()[0]["id"]
    fleet.new_endpoint()
    r = fleet.delete(f"/api/v1/ip_address_space/{seeded}")
    assert r.status_code == 409
    assert fleet.delete(f"/api/v1/ip_address_space/{pool.id}", org="globex").status_code == 404
    assert fleet.delete(f"/api/v1/ip_address_space/{pool.id}").status_code == 204
    body = {"ip_address_space": "100.71.0.0/24", "ip_address_version": 4}
    r = fleet.post("/api/v1/ip_address_space", body)
    location = f"http://testserver/api/v1/ip_address_space/{r.json()['id']}"
    assert r.status_code == 201 and r.headers["Location"] == location
    assert fleet.post("/api/v1/ip_address_space", body, org="globex").status_code == 409
    bad = {"ip_address_space": "192.168.0.0/24", "ip_address_version": 4}
    r = fleet.post("/api/v1/ip_address_space", bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ip_address_space"
    pool_body = {"ip_address_space": "100.72.0.0/24"}
    assert fleet.post("/api/v1/ip_address_space/pool", pool_body).status_code == 403
