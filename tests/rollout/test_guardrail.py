"""The adoption guardrail on both databases: when it pauses, once, and when it leaves a plan be."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adoption import service
from adoption.kpi_source import AdoptionKpis
from db.broadcast import Listener
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session, switch_tenant
from gateway import cli_rollout
from gateway.cli import app as cli_app
from gateway.settings import get_settings
from rollout import audit, guardrail, plans, waves
from rollout.errors import InvalidPlan
from rollout.guardrail import Outcome, Policy
from rollout.kpi import NOBODY, WeeklyActive
from rollout.models import RolloutNotice
from rollout.runtime import RolloutRuntime
from rollout.snapshot import CHANNEL, FlagStore
from rollout.waves import Action
from tests.adoption.conftest import INSTALL_KEY
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.guardrail_world import KIM_SON_FELL, CountingKpis, running_in_wave_1
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.world import KIM_SON, NOW, YEN_MO

POLICY = Policy(default_drop=0.3, min_active=20)
AS_OF = dt.date(2026, 11, 24)  # NOW is 10:00 on 25 November in Ninh Binh
HOUR = dt.timedelta(hours=1)
FELL_42 = "Guardrail: weekly active members of wave 1 'wave 1' (kim-son) fell 42.0% (1,200 → 696) "
FELL_42 += "in the week to 2026-11-24; threshold 30%."


@pytest.fixture
def kpis() -> CountingKpis:
    return CountingKpis()


async def check(session, kpis, *, at=NOW, policy=POLICY, dry_run=False):
    checks = await guardrail.check(
        session=session, kpis=kpis, policy=policy, now=at, dry_run=dry_run
    )
    return [(c.wave, c.outcome) for c in checks]


async def status_of(session) -> str:
    view = await plans.get_or_raise(session=session, province_id="ninh-binh", flag_key=KEY)
    await session.refresh(view.plan)
    return view.plan.status


async def all_notices(session) -> list[RolloutNotice]:
    return list(await session.scalars(select(RolloutNotice).order_by(RolloutNotice.created_at)))


async def test_a_wave_that_fell_further_than_the_threshold_pauses_the_plan(session, kpis):
    # given: Yen Mo holds; Kim Son fell from 1,200 to 696 weekly active members (-42%)
    await running_in_wave_1(session, kpis)
    kpis.weekly = dict(KIM_SON_FELL)
    # when
    outcomes = await check(session, kpis)
    # then
    assert outcomes == [(0, Outcome.HOLDS), (1, Outcome.PAUSED)]
    assert kpis.counted == [((YEN_MO, KIM_SON), AS_OF)]
    assert await status_of(session) == "paused"
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], actor="system")
    assert (row.action, row.reason, row.after) == (
        "plan.pause",
        FELL_42,
        {"status": "paused", "wave": 1, "step": 0, "paused_wave": 1},
    )
    [notice] = await all_notices(session)
    assert (notice.kind, notice.province_id, notice.flag_key, notice.wave, notice.message) == (
        "guardrail_pause",
        "ninh-binh",
        KEY,
        1,
        FELL_42,
    )
    assert notice.figures == {
        "as_of": "2026-11-24",
        "threshold": 0.3,
        "recent": 696,
        "earlier": 1200,
        "change": -0.42,
        "tenants": {KIM_SON: {"recent": 696, "earlier": 1200}},
        "also_fell": [],
    }
    assert (notice.created_at, notice.acknowledged_at) == (NOW, None)


async def test_a_fall_within_the_threshold_changes_nothing(session, kpis):
    # given: -10% in both waves
    await running_in_wave_1(session, kpis)
    kpis.weekly = {YEN_MO: WeeklyActive(900, 1_000), KIM_SON: WeeklyActive(90, 100)}
    # when
    outcomes = await check(session, kpis)
    # then
    assert outcomes == [(0, Outcome.HOLDS), (1, Outcome.HOLDS)]
    assert await status_of(session) == "running"
    assert await audit.query(session=session, province_ids=["ninh-binh"], actor="system") == []
    assert await all_notices(session) == []


async def test_a_wave_combines_its_tenants(session, kpis):
    # given: the last wave, three tenants: one fell by 90%, but the wave as a whole by 20%
    await running_in_wave_1(session, kpis)
    view = await plans.get_or_raise(
        session=session, province_id="ninh-binh", flag_key=KEY, for_update=True
    )
    await plans.apply(session=session, view=view, position=(2, 0), now=NOW)
    await session.commit()
    kpis.weekly = {
        "gia-vien": WeeklyActive(10, 100),
        "hoa-lu": WeeklyActive(300, 300),
        "nho-quan": WeeklyActive(250, 250),
    }
    # when
    checks = await guardrail.check(session=session, kpis=kpis, policy=POLICY, now=NOW)
    # then
    last = checks[2]
    assert (last.outcome, last.total, last.total.change) == (
        Outcome.HOLDS,
        WeeklyActive(560, 650),
        560 / 650 - 1,
    )


async def test_one_pause_names_the_wave_that_fell_furthest_and_reports_the_others(session, kpis):
    # given: Yen Mo fell by 40%, Kim Son by 42%
    await running_in_wave_1(session, kpis)
    kpis.weekly = {YEN_MO: WeeklyActive(600, 1_000), KIM_SON: WeeklyActive(696, 1_200)}
    # when: a first check, then another after an admin resumed
    first = await check(session, kpis)
    await waves.resume(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        reason="known: harvest",
        now=NOW + HOUR,
    )
    await session.commit()
    after_resume = await check(session, kpis, at=NOW + 2 * HOUR)
    # then
    assert first == [(0, Outcome.FELL), (1, Outcome.PAUSED)]
    assert after_resume == [(0, Outcome.RECENTLY_PAUSED), (1, Outcome.RECENTLY_PAUSED)]
    [notice] = await all_notices(session)
    assert (notice.wave, notice.figures["also_fell"], notice.message) == (
        1,
        [0],
        FELL_42 + " Also fell: wave 0 'pilot' (yen-mo) fell 40.0% (1,000 → 600).",
    )
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], actor="system")
    assert row.reason == notice.message


async def test_a_small_earlier_week_is_not_judged(session, kpis):
    # given: Kim Son lost everyone, but had only 19 active members the week before
    await running_in_wave_1(session, kpis)
    kpis.weekly = {YEN_MO: WeeklyActive(20, 20), KIM_SON: WeeklyActive(0, 19)}
    # when
    outcomes = await check(session, kpis)
    # then
    assert outcomes == [(0, Outcome.HOLDS), (1, Outcome.TOO_FEW)]
    assert await status_of(session) == "running"


@pytest.mark.parametrize(
    ("plan_drop", "default_drop", "expected"),
    [
        (0.0, 0.3, Outcome.OFF),  # the plan turned it off
        (None, 0.0, Outcome.OFF),  # the deployment turned it off
        (0.5, 0.3, Outcome.HOLDS),  # the plan's own threshold: 42% is within 50%
        (0.4, 0.0, Outcome.PAUSED),  # the plan's own threshold, while off by default
    ],
)
async def test_the_plan_threshold_overrides_the_default(
    session, kpis, plan_drop, default_drop, expected
):
    # given
    await running_in_wave_1(session, kpis)
    await plans.set_guardrail(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        drop=plan_drop,
        actor=ADMIN,
        reason="holiday season",
        now=NOW,
    )
    await session.commit()
    kpis.weekly = dict(KIM_SON_FELL)
    # when
    outcomes = await check(session, kpis, policy=Policy(default_drop=default_drop, min_active=20))
    # then
    assert outcomes[1] == (1, expected)
    assert kpis.counted == ([] if expected is Outcome.OFF else [((YEN_MO, KIM_SON), AS_OF)])


async def test_setting_the_guardrail_is_validated_and_audited(session, kpis):
    # given
    await running_in_wave_1(session, kpis)
    # when
    with pytest.raises(InvalidPlan) as refused:
        await plans.set_guardrail(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            drop=1.0,
            actor=ADMIN,
            reason="x",
            now=NOW,
        )
    view = await plans.set_guardrail(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        drop=0.25,
        actor=ADMIN,
        reason="smaller waves",
        now=NOW,
    )
    # then
    assert refused.value.message == (
        "The guardrail's drop is a fraction from 0 (off) to below 1, e.g. 0.3; not 1."
    )
    assert view.plan.guardrail_drop == 0.25
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.guardrail")
    assert (row.actor, row.before, row.after, row.reason) == (
        ADMIN,
        {"guardrail_drop": None},
        {"guardrail_drop": 0.25},
        "smaller waves",
    )


async def test_a_new_plan_takes_its_guardrail(session):
    # when
    view = await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        now=NOW,
        waves=[plans.WaveSpec("pilot", [YEN_MO])],
        guardrail_drop=0.5,
    )
    # then
    assert view.plan.guardrail_drop == 0.5
    with pytest.raises(InvalidPlan):
        await plans.create(
            session=session,
            province_id="ninh-binh",
            flag_key="handbook.meetings",
            actor=ADMIN,
            now=NOW,
            waves=[plans.WaveSpec("pilot", [YEN_MO])],
            guardrail_drop=-0.1,
        )


async def test_plans_that_are_not_running_are_left_alone(session, kpis):
    # given: a draft plan, then the same plan paused by an admin
    await make_plan(session)
    kpis.weekly = {YEN_MO: WeeklyActive(0, 5_000)}
    draft = await check(session, kpis)
    await waves.step_forward(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.START,
        actor=ADMIN,
        now=NOW,
        kpis=kpis,
    )
    await waves.pause(
        session=session, province_id="ninh-binh", flag_key=KEY, actor=ADMIN, reason="Tet", now=NOW
    )
    await session.commit()
    # when
    paused = await check(session, kpis)
    # then
    assert (draft, paused) == ([], [])
    assert kpis.counted == []
    assert await audit.query(session=session, province_ids=["ninh-binh"], actor="system") == []


async def test_a_dry_run_pauses_nothing(session, kpis):
    # given
    await running_in_wave_1(session, kpis)
    kpis.weekly = dict(KIM_SON_FELL)
    # when
    outcomes = await check(session, kpis, dry_run=True)
    # then
    assert outcomes == [(0, Outcome.HOLDS), (1, Outcome.WOULD_PAUSE)]
    assert await status_of(session) == "running"
    assert await audit.query(session=session, province_ids=["ninh-binh"], actor="system") == []
    assert await all_notices(session) == []


async def test_a_resumed_plan_is_not_paused_again_for_the_same_fall(session, kpis):
    # given: paused by the guardrail, resumed an hour later by an admin; the fall persists
    await running_in_wave_1(session, kpis)
    kpis.weekly = dict(KIM_SON_FELL)
    await check(session, kpis)
    await waves.resume(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        reason="known: harvest",
        now=NOW + HOUR,
    )
    await session.commit()
    # when: later that day, and on the sixth local day after the pause
    same_day = await check(session, kpis, at=NOW + 2 * HOUR)
    sixth_day = await check(session, kpis, at=NOW + dt.timedelta(days=6))
    # then
    assert same_day == sixth_day == [(0, Outcome.HOLDS), (1, Outcome.RECENTLY_PAUSED)]
    assert await status_of(session) == "running"
    assert len(await all_notices(session)) == 1


async def test_a_further_fall_a_week_later_pauses_again(session, kpis):
    # given: paused and resumed; a week later the wave fell by another 50%
    await running_in_wave_1(session, kpis)
    kpis.weekly = dict(KIM_SON_FELL)
    await check(session, kpis)
    await waves.resume(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        reason="known: harvest",
        now=NOW + HOUR,
    )
    await session.commit()
    kpis.weekly[KIM_SON] = WeeklyActive(348, 696)
    # when
    outcomes = await check(session, kpis, at=NOW + dt.timedelta(days=7))
    # then
    assert outcomes == [(0, Outcome.HOLDS), (1, Outcome.PAUSED)]
    assert kpis.counted[-1] == ((YEN_MO, KIM_SON), AS_OF + dt.timedelta(days=7))
    assert [n.figures["earlier"] for n in await all_notices(session)] == [1_200, 696]


async def test_the_runtime_reports_each_pause(session, kpis, app_engine, connection):
    # given
    await running_in_wave_1(session, kpis)
    kpis.weekly = dict(KIM_SON_FELL)
    paused = []
    runtime = RolloutRuntime(
        app_engine,
        make_sessionmaker(connection, join_transaction_mode="create_savepoint"),
        FlagStore(),
        kpis=kpis,
        guardrail_policy=POLICY,
        on_guardrail_pause=paused.append,
        clock=lambda: NOW,
    )
    heard: list[str] = []

    async def hear(payload: str) -> None:
        heard.append(payload)

    listener = Listener(app_engine, CHANNEL, hear)
    await listener.start()
    # when
    try:
        first = await runtime.run_guardrail()
        second = await runtime.run_guardrail()
    finally:
        await listener.stop()
    # then
    assert [(c.flag_key, c.wave) for c in paused] == [(KEY, 1)]
    assert [c.outcome for c in first] == [Outcome.HOLDS, Outcome.PAUSED]
    assert second == []
    if app_engine.dialect.name == "sqlite":  # PostgreSQL delivers NOTIFY at the test's commit
        assert heard == [KEY]


async def test_two_replicas_checking_at_once_pause_once(fresh):
    # given: a running plan whose wave 1 fell, and two replicas' engines
    engines = [make_engine(fresh.app_url) for _ in range(3)]
    setup, *replicas = [make_sessionmaker(e) for e in engines]
    kpis = CountingKpis(weekly=dict(KIM_SON_FELL))
    async with setup() as session:
        await running_in_wave_1(session, kpis)
    # when

    async def replica(maker):
        async with maker() as session:
            return await guardrail.check(session=session, kpis=kpis, policy=POLICY, now=NOW)

    results = await asyncio.gather(*(replica(maker) for maker in replicas))
    # then
    outcomes = sorted(c.outcome for checks in results for c in checks)
    async with setup() as session:
        rows = await audit.query(session=session, province_ids=["ninh-binh"], actor="system")
        notices = await all_notices(session)
        status = await status_of(session)
    for engine in engines:
        await engine.dispose()
    assert outcomes.count(Outcome.PAUSED) == 1
    assert (len(rows), len(notices), status) == (1, 1, "paused")


async def ingest_week(session, tenant: str, members: list[uuid.UUID], first_day: dt.date) -> None:
    """Each member opens the app on one day of the local week starting ``first_day``."""
    for n, member in enumerate(members):
        day = first_day + dt.timedelta(days=n % 7)
        at = f"{day.isoformat()}T09:00:00+07:00"
        result = await service.ingest(
            session=session,
            tenant_id=tenant,
            timezone="Asia/Ho_Chi_Minh",
            member_id=member,
            events=[
                {
                    "id": str(uuid.uuid4()),
                    "type": "session_started",
                    "timestamp": at,
                    "deviceId": f"phone-{member}",
                }
            ],
            now=NOW,
            install_key=INSTALL_KEY,
        )
        assert result.accepted == 1


@pytest.mark.parametrize(("recent", "expected"), [(20, Outcome.PAUSED), (36, Outcome.HOLDS)])
async def test_real_adoption_events_drive_the_guardrail(session, recent, expected):
    # given: 40 Kim Son members active in the week to 17 November, then ``recent`` of them
    passing = FakeKpiSource()
    await running_in_wave_1(session, passing)
    members = [uuid.UUID(int=0xA000 + n) for n in range(40)]
    await switch_tenant(session, KIM_SON)
    await ingest_week(session, KIM_SON, members, dt.date(2026, 11, 11))
    await ingest_week(session, KIM_SON, members[:recent], dt.date(2026, 11, 18))
    await session.commit()
    await switch_tenant(session, None)
    # when: the adoption rollups answer, read through the province's path
    checks = await guardrail.check(session=session, kpis=AdoptionKpis(), policy=POLICY, now=NOW)
    # then
    assert [(c.outcome, c.tenants) for c in checks] == [
        (Outcome.TOO_FEW, {YEN_MO: NOBODY}),
        (expected, {KIM_SON: WeeklyActive(recent, 40)}),
    ]
    notices = await all_notices(session)
    rows = await audit.query(session=session, province_ids=["ninh-binh"], actor="system")
    if expected is Outcome.PAUSED:
        reason = (
            "Guardrail: weekly active members of wave 1 'wave 1' (kim-son) fell 50.0% "
            "(40 → 20) in the week to 2026-11-24; threshold 30%."
        )
        assert [(r.action, r.reason) for r in rows] == [("plan.pause", reason)]
        assert [n.message for n in notices] == [reason]
        assert await status_of(session) == "paused"
    else:
        assert (rows, notices, await status_of(session)) == ([], [], "running")


def test_the_cli_checks_once_and_says_what_it_did(fresh, monkeypatch):
    # given: Kim Son's weekly active members halved (40 → 20)
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", fresh.app_url)
    monkeypatch.setattr(cli_rollout, "utc_now", lambda: NOW)
    get_settings.cache_clear()
    engine = make_engine(fresh.app_url)

    async def given():
        async with make_sessionmaker(engine)() as session:
            await running_in_wave_1(session, FakeKpiSource())
        async with scope_session(make_sessionmaker(engine)(), KIM_SON) as session:
            members = [uuid.UUID(int=0xB000 + n) for n in range(40)]
            await ingest_week(session, KIM_SON, members, dt.date(2026, 11, 11))
            await ingest_week(session, KIM_SON, members[:20], dt.date(2026, 11, 18))
            await session.commit()
        await engine.dispose()

    asyncio.run(given())
    # when
    dry_run = CliRunner().invoke(cli_app, ["rollout", "guardrail", "--dry-run"])
    run = CliRunner().invoke(cli_app, ["rollout", "guardrail"])
    again = CliRunner().invoke(cli_app, ["rollout", "guardrail"])
    get_settings.cache_clear()
    # then
    pilot = (
        "handbook wave 0 'pilot' (yen-mo): 0 → 0 (n/a) in the week to 2026-11-24, "
        "threshold 30%: too few active members to judge\n"
    )
    wave_1 = (
        "handbook wave 1 'wave 1' (kim-son): 40 → 20 (-50.0%) in the week to 2026-11-24, "
        "threshold 30%: "
    )
    assert (dry_run.exit_code, dry_run.output) == (0, pilot + wave_1 + "would pause\n")
    assert (run.exit_code, run.output) == (0, pilot + wave_1 + "paused\n")
    assert (again.exit_code, again.output) == (0, "No running rollout plan.\n")
