"""Two installations (staging and production: two data directories, so two databases and two
installation ids) in one provider account of one embedded cloud.

Each bootstraps the same region and gets its own TGW; each provisions its breakout 1 (the
real workflows, in one worker process per installation) for a different customer and gets
its own share; each one's audit and repair leave the other's resources alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from linkplane.cloud.factory import make_cloud
from linkplane.installation.service import installation_id
from linkplane.isolation import service as isolation
from tests.test_breakouts_faults_support import (
    REGION,
    Customer,
    ProcStack,
    drive_until,
    proc_stack,
    running,
)

ACTIVE = 5
PROVIDER = "666000000001"  # both installations' provider account, used by no other test


@pytest.fixture(scope="module")
def installations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ProcStack]]:
    root = tmp_path_factory.mktemp("installations")
    yield {name: proc_stack(root / name, PROVIDER) for name in ("staging", "production")}


def _id(stack: ProcStack) -> str:
    with stack.factory() as session:
        return installation_id(session, stack.settings)


def _share(stack: ProcStack, arn: str) -> tuple[str, dict[str, str], set[str]]:
    """Name, tags and principal accounts of a share, as the provider sees it."""
    port = make_cloud(stack.settings, REGION)
    share = next(s for s in port.list_resource_shares() if s.arn == arn)
    principals = {a.associated_entity for a in port.share_associations(share_arn=arn)}
    return share.name, share.tags, principals


def _audit(stack: ProcStack, repair: bool) -> isolation.AuditResult:
    factory, settings = stack.factory, stack.settings
    found = isolation.audit(settings=settings, factory=factory,
                            cloud_for=lambda r: make_cloud(settings, r))  # fmt: skip
    if not repair:
        return found
    return isolation.repair(factory=factory, cloud_for=lambda r: make_cloud(settings, r),
                            findings=found.findings)  # fmt: skip


def test_two_installations_in_one_provider_account(installations: dict[str, ProcStack]) -> None:
    staging, production = installations["staging"], installations["production"]
    assert _id(staging) != _id(production)
    assert staging.tgw_id != production.tgw_id  # same account, same region: a TGW each
    accounts = {"staging": "666100000001", "production": "666100000002"}
    cidrs = {"staging": "10.231.0.0/24", "production": "10.232.0.0/24"}
    ids = {name: installations[name].create(accounts[name], [cidrs[name]]) for name in accounts}
    assert ids == {"staging": 1, "production": 1}  # breakout ids restart per database

    with (
        running(staging.data_dir, staging.env("staging-host"), "--start", "1") as worker_s,
        running(production.data_dir, production.env("production-host"), "--start", "1"),
    ):
        customers = [Customer(installations[n].endpoint, accounts[n], installations[n].tgw_id,
                              cidrs[n]) for n in accounts]  # fmt: skip
        drive_until(customers, lambda: all(s.status(1) == ACTIVE for s in installations.values()),
                    worker=worker_s)  # fmt: skip

    arns = {name: str(installations[name].row(1).share_arn) for name in accounts}
    assert arns["staging"] != arns["production"]
    for name, stack in installations.items():
        share_name, tags, principals = _share(stack, arns[name])
        assert share_name == f"linkplane-{_id(stack)}-breakout-1-r1"
        assert tags["linkplane:installation"] == _id(stack)
        assert principals == {accounts[name]}  # never the other installation's customer

    # Each sweep reads its own TGW's attachments only: the other's customer is never there.
    for name, stack in installations.items():
        port = make_cloud(stack.settings, REGION)
        owners = {a.resource_owner_id for a in port.list_attachments(tgw_id=stack.tgw_id)}
        assert owners == {PROVIDER, accounts[name]}
    # Each audit sees a clean cloud of its own; repair (nothing to do) touches nothing.
    for stack in installations.values():
        assert _audit(stack, repair=False).findings == []
        assert _audit(stack, repair=True).repaired == []
    for name, stack in installations.items():
        assert _share(stack, arns[name])[2] == {accounts[name]}
        assert stack.status(1) == ACTIVE and stack.problems(1) == []


def test_a_second_data_dir_bootstrap_does_not_adopt_the_first(
    installations: dict[str, ProcStack], tmp_path: Path
) -> None:
    """A third installation in the same account: a third TGW, the others untouched."""
    third = proc_stack(tmp_path / "third", PROVIDER)
    assert third.tgw_id not in {s.tgw_id for s in installations.values()}
