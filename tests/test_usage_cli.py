"""``linkplane usage import`` (all or nothing, every bad line named) and ``simulate``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from linkplane.cli import _register, app
from linkplane.context import AppContext
from linkplane.errors import InvalidInput
from linkplane.usage import importer, service
from linkplane.usage.models import UsageRecord
from tests.portal.fleet import seed_fleet
from tests.test_devices_support import make_org

runner = CliRunner()


def _run(ctx: AppContext, *args: str) -> object:
    _register()
    return runner.invoke(app, ["usage", *args, "--data-dir", str(ctx.settings.data_dir)])


def _totals(ctx: AppContext) -> tuple[int, int]:
    with ctx.sessionmaker() as session:
        stmt = select(func.count(), func.coalesce(func.sum(UsageRecord.bytes_rx), 0))
        count, rx = session.execute(stmt).one()
        return int(count), int(rx)


def test_parse_reports_every_bad_line() -> None:
    text = "\n".join([
        "endpoint_id,iccid,date,bytes_tx,bytes_rx",
        "1,,2026-03-01,10,20",
        ",,2026-03-01,10,20",          # line 3: neither
        "1,,2026-02-30,-5,x",          # line 4: bad date, negative, not a number
        ",123,2026-03-01,1,1",         # line 5: short iccid
    ])  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        importer.parse(text)
    msg = err.value.message
    assert msg.startswith("3 bad row(s), nothing imported") and err.value.field == "file"
    assert "line 3: give exactly one" in msg and "line 5: iccid '123'" in msg
    assert "line 4: date '2026-02-30'" in msg and "bytes_tx '-5'" in msg and "bytes_rx 'x'" in msg
    with pytest.raises(InvalidInput, match=r"missing column.*iccid or endpoint_id"):
        importer.parse("date,bytes_tx,bytes_rx\n")
    assert (
        len(importer.parse("iccid,date,bytes_tx,bytes_rx\n8988303000000000001,2026-03-01,1,2\n"))
        == 1
    )


def test_import_is_all_or_nothing(ctx: AppContext, tmp_path: Path) -> None:
    org = make_org(ctx.sessionmaker, "acme", seed=False)
    eps = seed_fleet(ctx, org, 2, prefix="Acme meter", serial=1)
    day = (service.today_utc() - timedelta(days=1)).isoformat()
    csv = tmp_path / "usage.csv"
    csv.write_text(
        f"endpoint_id,date,bytes_tx,bytes_rx\n{eps[0]},{day},10,20\n{eps[1]},{day},1,2\n"
    )
    r = _run(ctx, "import", str(csv))
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "imported 2 usage records" in r.output  # type: ignore[attr-defined]
    r = _run(ctx, "import", str(csv))  # records are increments: a second delivery adds
    assert _totals(ctx) == (2, 44)
    csv.write_text(f"endpoint_id,date,bytes_tx,bytes_rx\n{eps[0]},{day},10,20\n999999,{day},1,2\n")
    r = _run(ctx, "import", str(csv))
    assert r.exit_code != 0
    assert isinstance(r.exception, InvalidInput)  # type: ignore[attr-defined]
    assert "line 3: endpoint 999999 not found" in r.exception.message  # type: ignore[attr-defined]
    assert _totals(ctx) == (2, 44)
    r = _run(ctx, "import", str(tmp_path / "missing.csv"))
    assert r.exit_code != 0


def test_simulate_is_deterministic_says_so_and_replaces(ctx: AppContext) -> None:
    org = make_org(ctx.sessionmaker, "demo", seed=False)
    seed_fleet(ctx, org, 3, prefix="Demo tracker", serial=3)
    r = _run(ctx, "simulate", "--org", "demo", "--days", "30")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "SIMULATED usage (not real traffic)" in r.output  # type: ignore[attr-defined]
    first = _totals(ctx)
    assert first[0] == 90 and first[1] > 0
    _run(ctx, "simulate", "--org", "demo", "--days", "30")
    assert _totals(ctx) == first  # the same seed rewrites the same numbers
    _run(ctx, "simulate", "--org", "demo", "--days", "30", "--seed", "2")
    assert _totals(ctx)[0] == 90 and _totals(ctx) != first
    r = _run(ctx, "simulate", "--org", "nobody")
    assert r.exit_code != 0
