"""Configuration as code: export → import into a fresh database → export is identical; import
twice writes nothing; bad files are refused with a code, the field and its line; a file failing
midway changes nothing. Through the CLI, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.cli import app
from gateway.settings import get_settings
from rollout import flags
from rollout.config.export import export, to_yaml
from rollout.config.importer import import_config
from rollout.flag_catalogue import FlagKey
from rollout.models import AuditEntry, Flag, FlagState
from tests import databases
from tests.rollout.plan_world import ADMIN, add_tenants, make_plan, notices_for_branch_a
from tests.world import DUY_TIEN, KIM_SON, NOW, load_world

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, ["rollout", *args])


def use(db, monkeypatch) -> None:
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", db.app_url)
    monkeypatch.setenv("PILOTGRAPH_PROVINCE", "ninh-binh")
    get_settings.cache_clear()


async def _in(db, work):
    engine = make_engine(db.app_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


async def configured(session) -> None:
    """A plan, a rule on a branch, an override with its reason, a killed flag."""
    await make_plan(session)
    await notices_for_branch_a(session)
    await flags.set_override(
        session=session,
        province_id="ninh-binh",
        key=FlagKey.MEETINGS.value,
        tenant_id=KIM_SON,
        variant="off",
        actor=ADMIN,
        reason="Kim Sơn trains its secretaries first",
        now=NOW,
    )
    meetings = await flags.get_or_raise(
        session=session, province_id="ninh-binh", key=FlagKey.MEETINGS.value
    )
    await flags.update(
        session=session,
        province_id="ninh-binh",
        key=FlagKey.RESOLUTION_COMMENTS.value,
        expected_version=1,
        actor=ADMIN,
        reason="",
        now=NOW,
        state=FlagState.KILLED,
    )
    assert meetings.version == 2
    await session.commit()


async def audit_and_versions(session):
    audits = await session.scalar(select(func.count()).select_from(AuditEntry))
    versions = (await session.execute(select(Flag.key, Flag.version).order_by(Flag.key))).all()
    return audits, versions


@pytest.fixture
async def second(fresh, tmp_path):
    """Another fresh database of the same backend, with the same world."""
    if fresh.backend == "postgresql":
        db = await databases.create_postgres()
    else:
        (tmp_path / "second").mkdir()
        db = await databases.create_sqlite(tmp_path / "second")
    engine = make_engine(db.app_url)
    await load_world(make_sessionmaker(engine))
    async with make_sessionmaker(engine)() as session:
        await add_tenants(session)
        await session.commit()
    await engine.dispose()
    yield db
    if db.backend == "postgresql":
        await databases.drop_postgres(db)


def test_export_import_into_a_fresh_database_exports_the_same_and_twice_writes_nothing(
    fresh, second, monkeypatch, tmp_path
):
    # given: a configured province, exported
    asyncio.run(_in(fresh, configured))
    use(fresh, monkeypatch)
    exported = cli("export")
    assert exported.exit_code == 0, exported.output
    source = tmp_path / "ninh-binh.yaml"
    source.write_text(exported.output, encoding="utf-8")
    # when: imported into a fresh database, twice
    use(second, monkeypatch)
    dry = cli("import", str(source), "--actor", "bob", "--dry-run")
    untouched = asyncio.run(_in(second, audit_and_versions))
    first = cli("import", str(source), "--actor", "bob")
    after_first = asyncio.run(_in(second, audit_and_versions))
    again = cli("import", str(source), "--actor", "bob")
    after_again = asyncio.run(_in(second, audit_and_versions))
    reexported = cli("export")
    # then
    assert dry.exit_code == 0
    assert dry.output.endswith(" field(s)\n")
    assert "would change" in dry.output
    assert untouched[1] == []  # the dry run wrote no flag
    assert first.exit_code == 0
    assert "changed" in first.output
    assert "+ flags.handbook.plan.waves" in first.output
    assert (again.exit_code, again.output) == (0, "nothing to change\n")
    assert after_again == after_first
    assert reexported.output == exported.output
    get_settings.cache_clear()


BASE = """province: ninh-binh
flags:
  handbook.meetings:
    default: off
    overrides:
      kim-son: {variant: on, reason: ready}
"""


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("province: [unclosed\n", "INVALID_YAML", "line 2: not valid YAML"),
        (
            BASE + "  handbok:\n    default: on\n",
            "UNKNOWN_FLAG",
            "line 7, flags.handbok: there is no flag 'handbok' in the catalogue.",
        ),
        (
            BASE + f"      {DUY_TIEN}: {{variant: on}}\n",
            "UNKNOWN_TENANT",
            f"line 7, flags.handbook.meetings.overrides.{DUY_TIEN}: "
            f"'{DUY_TIEN}' is not a tenant of 'ninh-binh'.",
        ),
        (
            BASE.replace("default: off", "default: maybe"),
            "INVALID_CONFIG",
            "line 4, flags.handbook.meetings.default: 'maybe' is not a variant of "
            "'handbook.meetings' (on, off).",
        ),
        (
            BASE + "    colour: red\n",
            "INVALID_CONFIG",
            "line 7, flags.handbook.meetings.colour: Extra inputs are not permitted.",
        ),
        (
            BASE.replace("default: off", "default: off\n    default: on"),
            "INVALID_CONFIG",
            "line 5, flags.handbook.meetings.default: appears twice.",
        ),
        (
            BASE.replace("province: ninh-binh", "province: ha-nam"),
            "INVALID_CONFIG",
            "line 1, province: the file is 'ha-nam''s, not 'ninh-binh''s.",
        ),
        (
            BASE + "    plan:\n      waves:\n        - {name: w, tenants: [yen-mo], "
            "earliest_start: 2026-12-01 08:00:00}\n",
            "INVALID_CONFIG",
            "line 9, flags.handbook.meetings.plan.waves.0.earliest_start: "
            "give a time zone (e.g. +07:00 or Z).",
        ),
    ],
)
def test_bad_files_are_refused_with_code_field_and_line_and_change_nothing(
    fresh, monkeypatch, tmp_path, text, code, message
):
    # given
    use(fresh, monkeypatch)
    before = asyncio.run(_in(fresh, audit_and_versions))
    source = tmp_path / "bad.yaml"
    source.write_text(text, encoding="utf-8")
    # when
    refused = cli("import", str(source), "--actor", "bob")
    # then
    assert refused.exit_code == 1
    assert refused.output.startswith(f"{code}: {message}"), refused.output
    assert asyncio.run(_in(fresh, audit_and_versions)) == before
    get_settings.cache_clear()


def test_an_import_failing_midway_changes_nothing(fresh, monkeypatch, tmp_path: Path):
    # given: the file changes handbook.meetings first, then asks to change handbook's plan's
    # waves, which only the apply step finds (after the first flag's changes were made)
    asyncio.run(_in(fresh, configured))
    use(fresh, monkeypatch)
    exported = cli("export").output
    before = asyncio.run(_in(fresh, audit_and_versions))
    changed = exported.replace("Kim Sơn trains its secretaries first", "changed").replace(
        "name: pilot", "name: renamed pilot"
    )
    source = tmp_path / "midway.yaml"
    source.write_text(changed, encoding="utf-8")
    # when
    refused = cli("import", str(source), "--actor", "bob")
    # then
    assert refused.exit_code == 1
    assert "INVALID_CONFIG: line" in refused.output
    assert "flags.handbook.plan.waves: a plan's waves cannot be changed by an import." in (
        refused.output
    )
    assert asyncio.run(_in(fresh, audit_and_versions)) == before
    assert cli("export").output == exported
    get_settings.cache_clear()


async def test_importing_what_is_there_calls_no_service(session):
    # given: a configured province and its own export
    await configured(session)
    text = to_yaml(await export(session=session, province_id="ninh-binh"))
    before = await audit_and_versions(session)
    # when: imported as it is, in the same transaction (no rollback to hide a write)
    applied = await import_config(
        session=session, province_id="ninh-binh", text=text, actor="bob", reason="", now=NOW
    )
    # then: no audit row, no version bump
    assert applied.changes == []
    assert await audit_and_versions(session) == before
