"""The indexed CIDR ranges behind a create's overlap check (``breakout_cidr``).

A create used to read every live breakout of the TGW; the index must give the same answers
while reading only the ranges that may clash, and the migration must fill it for breakouts
stored before it existed.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from linkplane.attachments import service
from linkplane.attachments.models import Breakout, BreakoutCidr, Status
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.context import AppContext
from linkplane.db import transaction
from linkplane.errors import InvalidInput
from linkplane.tenancy.principal import Principal, Role
from tests.portal.harness import seed_org
from tests.region_support import store_region
from tests.test_breakouts_commands import REGION
from tests.test_vpn_psk_at_rest import _alembic, insert_bare_breakout

REGIONS = [REGION.name]


@pytest.fixture
def admin(ctx: AppContext) -> Principal:
    store_region(ctx.sessionmaker, REGION)
    return Principal(user_id=None, org_id=seed_org(ctx, "acme").id, role=Role.ADMIN)


def _create(ctx: AppContext, admin: Principal, i: int, cidrs: list[str]) -> Breakout:
    data = BreakoutTgwCreate(name=f"b{i}", vpc_cidr=cidrs, region=REGION.name,
                             aws_account_id=f"{200000000000 + i}")  # fmt: skip
    with transaction(ctx.sessionmaker) as session:
        row = service.create_tgw(session=session, settings=ctx.settings, principal=admin,
                                 data=data)  # fmt: skip
        session.expunge(row)
    return row


def test_a_create_stores_each_cidr_as_an_integer_range(ctx: AppContext, admin: Principal) -> None:
    row = _create(ctx, admin, 1, ["10.1.0.0/24", "172.16.8.0/21"])
    with ctx.sessionmaker() as session:
        stored = session.scalars(select(BreakoutCidr).where(BreakoutCidr.breakout_id == row.id)
                                 .order_by(BreakoutCidr.position)).all()  # fmt: skip
    assert [(c.cidr, c.start, c.prefixlen) for c in stored] == [
        ("10.1.0.0/24", int(IPv4Network("10.1.0.0").network_address), 24),
        ("172.16.8.0/21", int(IPv4Network("172.16.8.0").network_address), 21),
    ]


def test_the_lookup_reads_only_ranges_that_may_clash(ctx: AppContext, admin: Principal) -> None:
    ids = [_create(ctx, admin, i, [f"10.{i // 256}.{i % 256}.0/24"]).id for i in range(300)]
    with ctx.sessionmaker() as session:
        one = service._live_clashing(session, REGIONS, ["10.0.7.0/24"], None)
        inside = service._live_clashing(session, REGIONS, ["10.0.7.128/25"], None)
        around = service._live_clashing(session, REGIONS, ["10.1.0.0/16"], None)
        free = service._live_clashing(session, REGIONS, ["192.168.0.0/24"], None)
    assert [c.id for c in one] == [ids[7]]  # not the other 299
    assert [c.id for c in inside] == [ids[7]]  # the supernet that contains it
    assert sorted(c.id for c in around) == ids[256:300]
    assert free == []


def test_the_check_still_refuses_every_clash_and_counts_routes(
    ctx: AppContext, admin: Principal
) -> None:
    first = _create(ctx, admin, 1, ["10.1.0.0/20"])
    with pytest.raises(InvalidInput, match=f"of breakout {first.id}") as sub:
        _create(ctx, admin, 2, ["10.1.2.0/24"])
    assert sub.value.field == "vpc_cidr[0]"
    with pytest.raises(InvalidInput, match=f"of breakout {first.id}"):
        _create(ctx, admin, 3, ["10.1.0.0/16"])
    other = Principal(user_id=None, org_id=seed_org(ctx, "globex").id, role=Role.ADMIN)
    with pytest.raises(InvalidInput, match="another organisation") as hidden:
        _create(ctx, other, 4, ["10.1.15.0/24"])
    assert "10.1.0.0/20" not in hidden.value.message  # its range is not revealed
    with ctx.sessionmaker() as session:
        in_use = service._live_cidr_count(session, REGIONS, None)
    assert in_use == 1


def test_a_deactivated_breakout_frees_its_range(ctx: AppContext, admin: Principal) -> None:
    first = _create(ctx, admin, 1, ["10.1.0.0/24"])
    with transaction(ctx.sessionmaker) as session:
        row = session.get(Breakout, first.id)
        assert row is not None
        row.status_id = Status.DEACTIVATED
    assert _create(ctx, admin, 2, ["10.1.0.0/24"]).cidr_list == ["10.1.0.0/24"]


_nets = st.builds(
    lambda a, plen: IPv4Network((a, plen), strict=False),
    st.integers(min_value=0x0A000000, max_value=0x0A00FFFF),
    st.integers(min_value=16, max_value=30),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(existing=st.lists(_nets, max_size=12), query=_nets)
def test_the_lookup_finds_every_overlap(
    ctx: AppContext, admin: Principal, existing: list[IPv4Network], query: IPv4Network
) -> None:
    with ctx.sessionmaker() as session, session.begin():
        row = Breakout(org_id=admin.org_id, name="x", region=REGION.name, aws_account_id="1",
                       vpc_cidrs="[]", status_id=Status.ACTIVE)  # fmt: skip
        session.add(row)
        session.flush()
        service._store_cidrs(session, row, existing)
        found = {c.cidr for c in service._live_clashing(session, REGIONS, [str(query)], None)}
        session.rollback()
    assert {str(n) for n in existing if n.overlaps(query)} <= found


def test_the_migration_fills_the_index_for_stored_breakouts(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        command.upgrade(_alembic(conn, None), "0018_vpn_bgp_ha")
    with engine.begin() as conn:
        insert_bare_breakout(conn, id=7, vpc_cidrs='["10.9.0.0/16", "192.168.4.0/22"]')
    with engine.begin() as conn:
        command.upgrade(_alembic(conn, None), "head")
        rows = conn.execute(sa.text("SELECT breakout_id, position, cidr, start, prefixlen "
                                    "FROM breakout_cidr ORDER BY position")).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (7, 0, "10.9.0.0/16", 0x0A090000, 16),
        (7, 1, "192.168.4.0/22", 0xC0A80400, 22),
    ]
    engine.dispose()
