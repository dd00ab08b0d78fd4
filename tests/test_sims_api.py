"""SIM inventory import (CSV, CLI), batch registration, lifecycle and listing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from linkplane.cli import _register, app
from linkplane.errors import InvalidInput
from linkplane.sims import importer
from tests.test_devices_support import Fleet, fleet, iccid, import_sims, make_org, sim_rows

__all__ = ["fleet"]


def test_parse_reports_every_bad_row_by_line() -> None:
    good = sim_rows(1, 2, "B1").splitlines()
    text = "\n".join([
        *good,
        "123,901430000000009,8800000009,B1",             # line 4: short iccid
        f"{iccid(1)},90143000000001,12,B 1",             # line 5: dup iccid, short imsi/msisdn, bic
        "89883030000000000016,901430000000077,880000077,B1",  # line 6: wrong Luhn digit
    ])  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        importer.parse(text)
    msg = err.value.message
    assert msg.startswith("3 bad row(s), nothing imported")
    assert "line 4: iccid '123'" in msg and "line 6:" in msg and "Luhn" in msg
    assert "line 5:" in msg and "repeats line 2" in msg and "imsi" in msg and "bic" in msg
    assert "line 2" not in msg.split("line 5:")[0]
    with pytest.raises(InvalidInput, match="missing column"):
        importer.parse("iccid,imsi\n1,2\n")
    assert importer.luhn_digit("8988303000000000001") == "5"
    assert len(importer.parse(text.replace("89883030000000000016", "89883030000000000015")
                              .splitlines()[0] + "\n" + good[1])) == 1  # fmt: skip


def test_cli_import_is_all_or_nothing(fleet: Fleet, tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    data_dir = str(fleet.ctx.settings.data_dir)
    csv = tmp_path / "sims.csv"
    csv.write_text(sim_rows(1, 3, "B1"))
    r = runner.invoke(app, ["sims", "import", str(csv), "--org", "acme", "--data-dir", data_dir])
    assert r.exit_code == 0, r.output
    assert "imported 3 SIMs" in r.output
    csv.write_text(sim_rows(3, 3, "B2"))  # line 2 repeats an ICCID already stored
    r = runner.invoke(app, ["sims", "import", str(csv), "--org", "acme", "--data-dir", data_dir])
    assert r.exit_code != 0
    assert isinstance(r.exception, InvalidInput) and "line 2: iccid" in r.exception.message
    r = runner.invoke(app, ["sims", "import", str(csv), "--org", "nope", "--data-dir", data_dir])
    assert r.exit_code != 0
    fleet.register("acme", "B1")
    assert fleet.get("/api/v1/sim").headers["X-Total-Count"] == "3"
    assert fleet.get("/api/v1/sim_batch/bic/B2").status_code == 404


def test_batch_registration(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 3, "B1"))
    assert fleet.get("/api/v1/sim").json() == []  # shipped, not yet registered
    assert fleet.get("/api/v1/sim/1").status_code == 404
    r = fleet.get("/api/v1/sim_batch/bic/B1")
    assert r.status_code == 200 and r.json()["quantity"] == "3"
    assert fleet.get("/api/v1/sim_batch/bic/B1", org="globex").status_code == 404
    assert fleet.register("globex", "B1").status_code == 404
    assert fleet.register("acme", "B1", status=1, ).status_code == 200
    assert fleet.register("acme", "B1", status=1).status_code == 422
    assert fleet.get("/api/v1/sim_batch/bic/B1").status_code == 400
    sims = fleet.get("/api/v1/sim").json()
    assert [s["status"]["id"] for s in sims] == [1, 1, 1]
    assert sims[0]["activation_date"] is not None and sims[0]["customer_org"]["name"] == "acme"
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(10, 1, "B2"))
    r = fleet.post("/api/v1/sim_batch/bic/B2", {"id": 4, "description": "Factory Test"})
    assert r.status_code == 200 and r.json()["sim"][0]["status"]["id"] == 4


def test_status_transitions(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
    fleet.register("acme", "B1")
    path = "/api/v1/sim/1"
    status = lambda: fleet.get(path).json()["status"]["id"]  # noqa: E731
    r = fleet.patch(path, {"status": {"id": 2}})
    assert r.status_code == 422
    assert "from Issued to Suspended" in r.json()["message"]
    assert r.json()["errors"][0]["field"] == "status"
    for target in (4, 1, 2, 1):
        assert fleet.patch(path, {"status": {"id": target}}).status_code == 204
        assert status() == target
    assert fleet.patch(path, {"status": {"id": 0}}).status_code == 422
    assert fleet.patch(path, {"status": {"id": 3}}).status_code == 422
    assert fleet.patch(path, {"status": {"id": 2}}, role="observer").status_code == 403
    assert fleet.patch(path, {"status": {"id": 2}}, org="globex").status_code == 404
    assert status() == 1
    assert [s["id"] for s in fleet.get("/api/v1/sim/status").json()] == [0, 1, 2, 4]


def test_list_filters(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 3, "B1"))
    fleet.register("acme", "B1")
    fleet.new_endpoint(sim={"id": 2})
    ids = lambda q: [s["id"] for s in fleet.get("/api/v1/sim", params={"q": q}).json()]  # noqa: E731
    assert ids("endpoint:null") == [1, 3]
    assert ids("endpoint:1") == [2]
    assert ids(f"iccid:{iccid(3)}") == [3]
    assert fleet.get("/api/v1/sim", params={"q": "eid:1"}).status_code == 422
    r = fleet.get("/api/v1/sim", params={"sort": "-id", "per_page": 2})
    assert [s["id"] for s in r.json()] == [3, 2] and r.headers["X-Total-Pages"] == "2"
    other = make_org(fleet.ctx.sessionmaker, "initech")
    import_sims(fleet.ctx.sessionmaker, other, sim_rows(20, 1, "B1"))
    assert len(fleet.get("/api/v1/sim").json()) == 3


def test_sim_bodies_refuse_unknown_fields_and_accept_the_spec_and_sdk_names(fleet: Fleet) -> None:
    """issue 12 defect 7: unknown SIM body fields were silently ignored."""
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
    fleet.register("acme", "B1")
    r = fleet.patch("/api/v1/sim/1", {"status": {"id": 1}, "colour": "red"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    assert fleet.get("/api/v1/sim/1").json()["status"]["id"] == 0
    own = {"id": fleet.orgs["acme"]}
    spec = {"issuer_org": own, "reseller_org": own, "customer_org": own, "status": {"id": 1}}
    assert fleet.patch("/api/v1/sim/1", spec).status_code == 204
    sdk = {"customer_organisation": own, "status": {"id": 2, "description": "Suspended"}}
    assert fleet.patch("/api/v1/sim/1", sdk).status_code == 204
    r = fleet.patch("/api/v1/sim/1", {"customer_org": {"id": fleet.orgs["globex"]}})
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "customer_org.id"
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(5, 1, "B2"))
    r = fleet.patch("/api/v1/sim_batch/bic/B2", {"sim_status": {"id": 1}, "extra": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "extra"


def test_sim_shapes_follow_the_spec(fleet: Fleet) -> None:
    """issue 12 defect 6: unset keys are omitted (not null); a batch's quantity is a string."""
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 2, "B1"))
    assert fleet.get("/api/v1/sim_batch/bic/B1").json()["quantity"] == "2"
    registered = fleet.register("acme", "B1").json()["sim"]
    assert all("endpoint" not in s and "activation_date" not in s for s in registered)
    sim = fleet.get("/api/v1/sim/1").json()
    assert "endpoint" not in sim and "activation_date" not in sim
    fleet.new_endpoint(sim={"id": 1, "activate": True})
    sim = fleet.get("/api/v1/sim/1").json()
    assert sim["endpoint"]["name"] == "dev" and sim["activation_date"]
    assert [("endpoint" in s) for s in fleet.get("/api/v1/sim").json()] == [True, False]


def test_sim_events_are_the_sims_audit_trail(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 2, "B1"))
    fleet.register("acme", "B1")
    fleet.patch("/api/v1/sim/1", {"status": {"id": 1}})
    fleet.patch("/api/v1/sim/2", {"status": {"id": 4}})
    fleet.patch("/api/v1/sim/1", {"status": {"id": 2}})
    r = fleet.get("/api/v1/sim/1/event")
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "2"
    events = r.json()
    assert [e["description"].split()[-1] for e in events] == ["Suspended", "Activated"]
    assert events[0]["sim"] == {"id": 1, "iccid": iccid(1), "imsi": "901430000000001"}
    assert events[0]["event_type"]["description"] == "Generic"  # "SIM status changed"
    assert fleet.get("/api/v1/sim/1/event", params={"sort": "id"}).json()[0] == events[1]
    assert fleet.get("/api/v1/sim/1/event", params={"q": "imei:1"}).status_code == 422
    assert fleet.get("/api/v1/sim/1/event", org="globex").status_code == 404
    assert fleet.get("/api/v1/sim/1/event", role="observer").status_code == 200


def test_sim_stats_count_the_traffic_the_sim_carried(fleet: Fleet) -> None:
    from linkplane.db import transaction
    from linkplane.usage import service as usage

    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 1, "B1"))
    fleet.register("acme", "B1", 1)
    first = fleet.new_endpoint(sim={"id": 1}).json()["id"]
    today = usage.today_utc()
    last = usage.previous_month_start(today)
    with transaction(fleet.ctx.sessionmaker) as session:
        rows = [usage.UsageIn(endpoint_id=first, day=today, bytes_tx=1_000_000, bytes_rx=0),
                usage.UsageIn(endpoint_id=first, day=last, bytes_tx=0, bytes_rx=500_000)]
        usage.record_usage(session=session, rows=rows)  # fmt: skip
    # The SIM moves to another endpoint: its history stays with it.
    fleet.patch(f"/api/v1/endpoint/{first}", {"sim": {"id": None}})
    second = fleet.new_endpoint(sim={"id": 1}).json()["id"]
    with transaction(fleet.ctx.sessionmaker) as session:
        rows = [usage.UsageIn(endpoint_id=second, day=today, bytes_tx=0, bytes_rx=2_000_000)]
        usage.record_usage(session=session, rows=rows)
    body = fleet.get("/api/v1/sim/1/stats").json()
    current = body["current_month"]["data"]
    assert (current["volume"], current["volume_tx"], current["volume_rx"]) == (3.0, 1.0, 2.0)
    assert current["sim_id"] == 1 and current["traffic_type_id"] == 5
    assert current["month"] == today.replace(day=1).isoformat()
    assert current["id"] == int(f"1{today:%Y%m}5")
    assert body["last_month"]["data"]["volume"] == 0.5
    days = fleet.get("/api/v1/sim/1/stats/daily").json()
    assert [(d["date"], d["data"]["volume"]) for d in days] == [(today.isoformat(), 3.0)]
    ranged = fleet.get("/api/v1/sim/1/stats/daily", params={"start_date": last.isoformat()})
    assert [d["date"] for d in ranged.json()] == [last.isoformat(), today.isoformat()]
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(9, 1, "B9"))
    fleet.register("acme", "B9")
    assert fleet.get("/api/v1/sim/2/stats").json() == {}
    counts = fleet.get("/api/v1/organisation/my/stats").json()["sim"]
    assert counts == {"issued": 1, "factory_mode": 0, "active": 1, "suspended": 0, "total": 2}
    for path in ("/api/v1/sim/1/stats", "/api/v1/sim/1/stats/daily"):
        assert fleet.get(path, org="globex").status_code == 404


def test_delete_sims_one_or_many_all_or_nothing(fleet: Fleet) -> None:
    import_sims(fleet.ctx.sessionmaker, fleet.orgs["acme"], sim_rows(1, 4, "B1"))
    fleet.register("acme", "B1")
    fleet.new_endpoint(sim={"id": 2})
    r = fleet.delete("/api/v1/sim/2")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "sim"
    assert fleet.delete("/api/v1/sim/1", org="globex").status_code == 404
    assert fleet.delete("/api/v1/sim/1", role="observer").status_code == 403
    assert fleet.delete("/api/v1/sim/1").status_code == 204
    assert fleet.get("/api/v1/sim/1").status_code == 404
    assert fleet.get("/api/v1/event", params={"q": "description:deleted"}).json()[0][
        "description"] == f"SIM {iccid(1)} deleted"  # fmt: skip
    def multi(body: object, org: str = "acme", role: str = "admin") -> Any:
        return fleet.client.request("DELETE", "/api/v1/sim/multi", json=body,
                                    headers=fleet.as_(org, role))  # fmt: skip

    r = multi([{"id": 3}, {"id": 2}])
    assert r.status_code == 409 and "2" in r.json()["message"]
    r = multi([{"id": 3}, {"id": 99}])
    assert r.status_code == 404 and "99" in r.json()["message"]
    assert fleet.get("/api/v1/sim/3").status_code == 200  # nothing deleted
    assert multi([{"id": 3}, {"id": 4}], org="acme", role="observer").status_code == 403
    assert multi([]).status_code == 422
    assert multi([{"id": 3}, {"id": 4}]).status_code == 204
    assert [s["id"] for s in fleet.get("/api/v1/sim").json()] == [2]
