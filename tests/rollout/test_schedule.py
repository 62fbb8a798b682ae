"""Scheduled steps run when due, exactly once even with two workers racing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from db.engine import make_engine
from db.sessions import make_sessionmaker
from rollout import audit, plans, schedule
from rollout.models import ScheduledStep
from rollout.waves import Action
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.world import NOW

LATER = NOW + dt.timedelta(days=1)


async def test_a_due_step_runs_once_and_is_audited(connection, session, kpis):
    # given
    await make_plan(session)
    await schedule.schedule(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.START,
        run_at=LATER,
        actor=ADMIN,
        reason="Monday",
        now=NOW,
    )
    await session.commit()
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    # when
    early = await schedule.run_due(sessionmaker=maker, kpis=kpis, worker="w1", now=NOW)
    due = await schedule.run_due(sessionmaker=maker, kpis=kpis, worker="w1", now=LATER)
    again = await schedule.run_due(sessionmaker=maker, kpis=kpis, worker="w1", now=LATER)
    # then
    assert (early, len(due), again) == ([], 1, [])
    view = await plans.get_or_raise(session=session, province_id="ninh-binh", flag_key=KEY)
    await session.refresh(view.plan)
    assert view.plan.status == "running"
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="schedule.run")
    assert (row.actor, row.after["outcome"], row.reason) == ("schedule:w1", "applied", "Monday")
    [started] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.start")
    assert started.actor == ADMIN


async def test_a_failing_step_is_recorded_not_retried(connection, session, kpis):
    # given: resuming a plan that is not paused fails
    await make_plan(session)
    await schedule.schedule(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.RESUME,
        run_at=LATER,
        actor=ADMIN,
        reason="",
        now=NOW,
    )
    await session.commit()
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    # when
    ran = await schedule.run_due(sessionmaker=maker, kpis=kpis, worker="w1", now=LATER)
    # then
    step = await session.scalar(select(ScheduledStep).where(ScheduledStep.id == ran[0]))
    await session.refresh(step)
    assert (step.status, step.outcome) == (
        "failed",
        "failed: INVALID_TRANSITION: Cannot resume the plan of 'handbook': it is draft.",
    )


async def test_two_workers_run_each_step_exactly_once(fresh):
    # given: three due steps (start, then two ramp steps) and two replicas' engines
    engines = [make_engine(fresh.app_url) for _ in range(3)]
    setup, *workers = [make_sessionmaker(e) for e in engines]
    async with setup() as session:
        await make_plan(session)
        for minutes, action in ((1, Action.START), (2, Action.ADVANCE), (3, Action.ADVANCE)):
            await schedule.schedule(
                session=session,
                province_id="ninh-binh",
                flag_key=KEY,
                action=action,
                actor=ADMIN,
                reason="",
                run_at=NOW + dt.timedelta(minutes=minutes),
                now=NOW,
            )
        await session.commit()
    # when
    results = await asyncio.gather(
        *(
            schedule.run_due(sessionmaker=maker, kpis=FakeKpiSource(), worker=f"w{n}", now=LATER)
            for n, maker in enumerate(workers)
        )
    )
    # then
    async with setup() as session:
        runs = await audit.query(session=session, province_ids=["ninh-binh"], action="schedule.run")
        view = await plans.get_or_raise(session=session, province_id="ninh-binh", flag_key=KEY)
    for engine in engines:
        await engine.dispose()
    ran = [step for result in results for step in result]
    assert len(ran) == len(set(ran)) == 3
    assert len(runs) == 3
    assert view.position == (1, 1)  # Kim Son's wave at its second ramp step


async def test_a_later_step_waits_while_an_earlier_step_of_its_plan_runs(fresh):
    # given: a start and an advance due, and a worker that has claimed the start (row locked)
    if fresh.backend != "postgresql":
        pytest.skip("on SQLite a worker holds the database's write lock: no two claim at once")
    engines = [make_engine(fresh.app_url) for _ in range(2)]
    holder, worker = [make_sessionmaker(e) for e in engines]
    async with holder() as session:
        await make_plan(session)
        for minutes, action in ((1, Action.START), (2, Action.ADVANCE)):
            await schedule.schedule(
                session=session,
                province_id="ninh-binh",
                flag_key=KEY,
                action=action,
                actor=ADMIN,
                reason="",
                run_at=NOW + dt.timedelta(minutes=minutes),
                now=NOW,
            )
        await session.commit()
    async with holder() as claimed:
        await claimed.scalar(
            select(ScheduledStep).order_by(ScheduledStep.run_at).limit(1).with_for_update()
        )
        # when
        ran = await schedule.run_due(
            sessionmaker=worker, kpis=FakeKpiSource(), worker="w2", now=LATER
        )
    # then: the advance is left for after the start, not run (and failed) before it
    async with holder() as session:
        steps = await schedule.pending(session=session, province_id="ninh-binh", flag_key=KEY)
    for engine in engines:
        await engine.dispose()
    assert ran == []
    assert [step.action for step in steps] == ["start", "advance"]
