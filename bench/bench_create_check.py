"""Benchmark: CPU of a breakout create as the fleet grows (its CIDR check), no engine.

    .venv/bin/python bench/bench_create_check.py               # 1,000 creates, SQLite
    .venv/bin/python bench/bench_create_check.py --n 5000

Creates N one-CIDR TGW breakouts, one transaction each, through ``service.create_tgw`` (what
the API's POST runs before it starts the workflow) on a fresh SQLite database with a region
row and no cloud, and prints the process CPU per create of the first 100 and of the last 100.
Before the CIDR index, a create read every live breakout of the TGW, so the last creates cost
several times the first; with it they should cost about the same.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from linkplane.attachments import service
from linkplane.attachments.schemas import BreakoutTgwCreate
from linkplane.context import open_context
from linkplane.db import transaction
from linkplane.regions.models import Region
from linkplane.settings import Settings
from linkplane.tenancy.models import Organisation
from linkplane.tenancy.principal import Principal, Role

REGION = "eu-central-1"
WINDOW = 100


def _setup() -> tuple[Settings, sessionmaker[Session], Principal]:
    ctx = open_context(Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-create-"))))
    with transaction(ctx.sessionmaker) as session:
        session.add(Region(
            name=REGION, account_id="123456789012", tgw_id="tgw-0bench",
            tgw_arn=f"arn:aws:ec2:{REGION}:123456789012:transit-gateway/tgw-0bench",
            core_route_table_id="tgw-rtb-core", customers_route_table_id="tgw-rtb-customers",
            core_vpc_id="vpc-core", core_vpc_cidr="10.255.0.0/16",
            core_attachment_id="tgw-attach-core", subnet_ids=[], device_cidr="100.64.0.0/10",
        ))  # fmt: skip
        org = Organisation(name="bench")
        session.add(org)
        session.flush()
        principal = Principal(user_id=1, org_id=int(org.id), role=Role.ADMIN)
    return ctx.settings, ctx.sessionmaker, principal


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="breakouts created (> 200)")
    n = max(parser.parse_args().n, 2 * WINDOW)
    settings, factory, principal = _setup()
    marks: dict[int, float] = {}
    for i in range(n):
        if i in (0, WINDOW, n - WINDOW):
            marks[i] = time.process_time()
        data = BreakoutTgwCreate(name=f"b{i}", vpc_cidr=[f"10.{i // 256}.{i % 256}.0/24"],
                                 region=REGION, aws_account_id=str(200000000000 + i))  # fmt: skip
        with transaction(factory) as session:
            service.create_tgw(session=session, settings=settings, principal=principal,
                               data=data)  # fmt: skip
    first = (marks[WINDOW] - marks[0]) / WINDOW * 1000
    last = (time.process_time() - marks[n - WINDOW]) / WINDOW * 1000
    print("| N | CPU ms per create, first 100 | last 100 | last / first |")
    print("|---:|---:|---:|---:|")
    print(f"| {n} | {first:.2f} | {last:.2f} | {last / first:.2f} |")


if __name__ == "__main__":
    main()
