"""Applying the core policy from several workers at once: one applier at a time, unique
temporary files, and the file on disk is always a whole, current ruleset."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from linkplane.context import AppContext
from linkplane.isolation import gateway, service
from linkplane.network.policy import parse_ruleset
from linkplane.settings import Settings


def test_concurrent_applies_leave_one_whole_current_policy(
    settings: Settings, ctx: AppContext
) -> None:
    def apply(_: int) -> bool:
        result = service.apply_policy(settings=settings, factory=ctx.sessionmaker, force=True)
        return result.changed

    with ThreadPoolExecutor(max_workers=8) as pool:
        changed = list(pool.map(apply, range(16)))
    assert all(changed)  # every forced apply wrote (none failed on a shared temp file)
    path = gateway.policy_path(settings)
    current = service.compute_policy(factory=ctx.sessionmaker)
    assert parse_ruleset(path.read_text()).digest() == current.digest()
    assert not list(path.parent.glob("*.tmp"))  # no temporary file left behind


def test_write_atomically_uses_a_fresh_temporary_file_each_time(settings: Settings) -> None:
    path = gateway.policy_path(settings)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: gateway.write_atomically(path, f"# {i}\n"), range(32)))
    assert path.read_text().startswith("# ")
    assert not list(path.parent.glob("*.tmp"))
