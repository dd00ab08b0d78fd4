"""The installation id: generated once per database, stable, overridable, one per database."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from pydantic import ValidationError
from sqlalchemy import func, select

from linkplane import db
from linkplane.attachments.records import Plan
from linkplane.context import AppContext, open_context
from linkplane.db import make_engine, make_sessionmaker, migrate
from linkplane.installation.models import Installation
from linkplane.installation.service import MissingInstallationId, installation_id
from linkplane.installation.tags import TAG, Owner, owner_of
from linkplane.settings import INSTALLATION_ID_RE, Settings


def _id(ctx: AppContext, settings: Settings | None = None) -> str:
    with ctx.sessionmaker() as session:
        return installation_id(session, settings or ctx.settings)


def test_generated_once_and_stable_across_opens(settings: Settings) -> None:
    first = open_context(settings)
    value = _id(first)
    first.close()
    again = open_context(settings)
    migrate(again.engine)  # a second migration run writes no second id
    with again.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Installation)) == 1
    assert _id(again) == value and INSTALLATION_ID_RE.match(value) and len(value) == 8
    again.close()


def test_each_database_gets_its_own(tmp_path: Path) -> None:
    ids = set()
    for name in ("staging", "production"):
        ctx = open_context(Settings(data_dir=tmp_path / name))
        ids.add(_id(ctx))
        ctx.close()
    assert len(ids) == 2


def test_setting_overrides_the_stored_id(ctx: AppContext) -> None:
    stored = _id(ctx)
    assert _id(ctx, Settings(data_dir=ctx.settings.data_dir, installation_id="prod1")) == "prod1"
    assert _id(ctx) == stored
    with pytest.raises(ValidationError, match="installation_id"):
        Settings(installation_id="Prod-1")


def test_a_database_from_before_0007_gets_an_id_when_upgraded(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(db.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_usage")
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        value = installation_id(session, Settings(data_dir=tmp_path))
    assert INSTALLATION_ID_RE.match(value)
    engine.dispose()


def test_an_emptied_table_is_an_error_not_a_new_id(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    factory = make_sessionmaker(engine)
    with factory.begin() as session:
        session.query(Installation).delete()
    with factory() as session, pytest.raises(MissingInstallationId):
        installation_id(session, Settings(data_dir=tmp_path))
    engine.dispose()


def test_owner_of_tags() -> None:
    assert owner_of({TAG: "aaaa1111"}, "aaaa1111") is Owner.MINE
    assert owner_of({TAG: "bbbb2222"}, "aaaa1111") is Owner.OTHER
    assert owner_of({"linkplane:breakout": "1"}, "aaaa1111") is Owner.LEGACY


def _plan(installation: str) -> Plan:
    return Plan(breakout_id=1, revision=2, region="eu-central-1", account_id="222222222222",
                tgw_id="tgw-1", tgw_arn="arn:tgw", core_route_table_id="rt-c",
                customers_route_table_id="rt-u", cidrs=("10.1.0.0/24",),
                invitation_deadline=0.0, installation_id=installation)  # fmt: skip


def test_a_plan_names_tags_and_tokens_its_share_with_the_installation() -> None:
    plan = _plan("aaaa1111")
    assert plan.share_name == "linkplane-aaaa1111-breakout-1-r2"
    assert plan.client_token == "aaaa1111-breakout-1-2"
    assert plan.tags == {"linkplane:breakout": "1", "linkplane:revision": "2", TAG: "aaaa1111"}
    other = _plan("bbbb2222")
    assert (other.share_name, other.client_token) != (plan.share_name, plan.client_token)


def test_a_plan_checkpointed_before_0007_keeps_the_old_names() -> None:
    """DBOS pickles step results; a plan recorded by the old code has no installation id, and
    its replayed ``ensure_share`` must look for the share under the name it used then."""
    old = object.__new__(Plan)
    state = dict(_plan("aaaa1111").__dict__)
    del state["installation_id"]
    old.__dict__.update(state)
    replayed = pickle.loads(pickle.dumps(old))
    assert replayed.share_name == "linkplane-breakout-1-r2"
    assert replayed.client_token == "breakout-1-2"
    assert TAG not in replayed.tags
