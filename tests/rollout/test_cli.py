"""``pilotgraph rollout``: the plan end to end from the shell, with gates, four eyes, rollback."""

from __future__ import annotations

import asyncio
import re

import pytest
from typer.testing import CliRunner

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway import cli_rollout
from gateway.cli import app
from gateway.settings import get_settings
from rollout import audit
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import KEY, make_plan
from tests.rollout.test_forecast import curve
from tests.world import YEN_MO

runner = CliRunner()


@pytest.fixture
def cli_database(fresh, monkeypatch):
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", fresh.app_url)
    monkeypatch.setenv("PILOTGRAPH_PROVINCE", "ninh-binh")  # the world has two provinces
    get_settings.cache_clear()
    yield fresh
    get_settings.cache_clear()


async def _in(db, work):
    engine = make_engine(db.app_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def cli(*args):
    return runner.invoke(app, ["rollout", *args])


def test_plan_end_to_end_from_the_cli(cli_database):
    # given: the five-tenant plan, not started; no adoption events, so gates fail
    asyncio.run(_in(cli_database, make_plan))
    # when / then
    started = cli("start", KEY, "--actor", "alice")
    assert (started.exit_code, started.output) == (0, "handbook: running, wave 0 step 0\n")
    refused = cli("advance", KEY, "--actor", "alice")
    assert refused.exit_code == 1
    assert refused.output.startswith("GATE_FAILED: The gate of wave 'wave 1' fails")
    overridden = cli("advance", KEY, "--actor", "alice", "--override-reason", "asked by Kim Son")
    assert overridden.output == "handbook: running, wave 1 step 0\n"
    assert cli("advance", KEY, "--actor", "alice").output == "handbook: running, wave 1 step 1\n"
    requested = cli("advance", KEY, "--actor", "alice", "--override-reason", "province decision")
    approval_id = re.search(r"approve ([0-9a-f-]{36})", requested.output).group(1)
    self_approved = cli("approve", approval_id, "--actor", "alice")
    assert (self_approved.exit_code, self_approved.output) == (
        1,
        "SELF_APPROVAL: A second province admin must approve: the requester cannot.\n",
    )
    approved = cli("approve", approval_id, "--actor", "bob")
    assert approved.output == "handbook: completed, wave 2 step 0\n"
    status = cli("status", KEY)
    assert status.exit_code == 0
    assert status.output.splitlines()[0] == "handbook: completed, wave 2 step 0"
    assert "    kim-son          wave 1    100% on" in status.output
    paused = cli("pause", KEY, "--actor", "alice", "--reason", "x")
    assert (paused.exit_code, paused.output) == (
        1,
        "INVALID_TRANSITION: Cannot pause the plan of 'handbook': it is completed.\n",
    )
    rolled_back = cli("rollback", KEY, "--actor", "bob", "--reason", "complaints")
    assert rolled_back.output == "handbook: running, wave 1 step 1\n"
    rows = asyncio.run(
        _in(
            cli_database, lambda s: audit.query(session=s, province_ids=["ninh-binh"], flag_key=KEY)
        )
    )
    assert [(r.action, r.actor) for r in rows][:4] == [
        ("plan.rollback", "bob"),
        ("plan.approve", "bob"),
        ("approval.request", "alice"),
        ("plan.advance", "alice"),
    ]


def test_status_of_a_flag_without_plan(cli_database):
    # when
    result = cli("status", KEY)
    # then
    assert (result.exit_code, result.output) == (
        1,
        "PLAN_NOT_FOUND: The flag 'handbook' has no rollout plan.\n",
    )


def test_another_province_has_no_plan_of_this_one(cli_database):
    # given: Ninh Binh's plan for the flag
    asyncio.run(_in(cli_database, make_plan))
    # when
    status = cli("status", KEY, "--province", "ha-nam")
    started = cli("start", KEY, "--actor", "alice", "--province", "ha-nam")
    # then: Ha Nam has no plan for it, and Ninh Binh's is untouched
    assert (status.exit_code, status.output) == (
        1,
        "PLAN_NOT_FOUND: The flag 'handbook' has no rollout plan.\n",
    )
    assert (started.exit_code, started.output) == (
        1,
        "PLAN_NOT_FOUND: The flag 'handbook' has no rollout plan.\n",
    )
    assert cli("status", KEY).output.splitlines()[0] == "handbook: draft, wave -1 step -1"


def test_several_provinces_need_a_province(cli_database, monkeypatch):
    # given: two provinces, none chosen
    monkeypatch.delenv("PILOTGRAPH_PROVINCE")
    # when
    result = cli("status", KEY)
    # then
    assert (result.exit_code, result.output) == (
        1,
        "PROVINCE_REQUIRED: Choose a province with --province: there is more than one.\n",
    )


def test_status_ends_with_the_wave_forecast(cli_database, monkeypatch):
    # given: the plan started, the pilot's activation following a known curve
    asyncio.run(_in(cli_database, make_plan))
    kpis = FakeKpiSource(curves={YEN_MO: curve(45)})
    monkeypatch.setattr(cli_rollout, "kpi_source", lambda: kpis)
    assert cli("status", KEY).output.splitlines()[-1] == "  forecast: none (NOT_RUNNING)"
    assert cli("start", KEY, "--actor", "alice").exit_code == 0
    # when
    result = cli("status", KEY)
    # then: the fit, then each next wave's gate with a date and its interval, or why not
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    forecast_at = lines.index(next(line for line in lines if line.startswith("  forecast:")))
    assert lines[forecast_at].startswith("  forecast: Bass p=0.0050 q=0.0500 rmse=0.000 over ")
    assert re.fullmatch(
        r"    wave 1 gate opens \d{4}-\d\d-\d\d \(held 14 days\)", lines[forecast_at + 1]
    )
    assert re.fullmatch(
        r"      activation_rate ≥ 90%: (\d{4}-\d\d-\d\d) \(\1 … \1\)|"
        r"      activation_rate ≥ 90%: \d{4}-\d\d-\d\d \(\d{4}-\d\d-\d\d … \d{4}-\d\d-\d\d\)",
        lines[forecast_at + 2],
    )
    assert lines[forecast_at + 3] == "      monthly_active_rate ≥ 80%: no date (NOT_MODELLED)"
    assert lines[forecast_at + 4].startswith("    wave 2 gate opens ")
