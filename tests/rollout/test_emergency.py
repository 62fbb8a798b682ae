"""Roll back to a chosen earlier step, cancel a scheduled step, and the steps an admin may take
now with their impact (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.sessions import make_sessionmaker
from rollout import audit, next_steps, plans, schedule, snapshot, waves
from rollout.errors import InvalidTransition, StepNotFound
from rollout.models import ScheduledStep
from tests.rollout.plan_actions import LATER, P
from tests.rollout.plan_world import ADMIN, GIA_VIEN, HOA_LU, KEY, NHO_QUAN
from tests.rollout.test_plan_versions import waiting_world
from tests.world import KIM_SON, NOW, YEN_MO


async def rollback_to(session, to):
    return await waves.rollback(
        session=session,
        province_id=P,
        flag_key=KEY,
        actor=ADMIN,
        reason="emergency",
        now=NOW,
        to=to,
    )


async def test_rollback_to_nothing_turns_every_wave_off_at_once_and_audits(session, kpis):
    # given: Kim Son at 100%, Yen Mo on
    await waiting_world(session, kpis)
    # when
    view = await rollback_to(session, (-1, -1))
    await session.commit()
    # then
    assert view.state() == {"status": "draft", "wave": -1, "step": -1}
    current = (await snapshot.load(session=session))[P]
    assert current.flags[KEY].rollouts == {}
    [row] = await audit.query(session=session, province_ids=[P], action="plan.rollback")
    assert (row.before["wave"], row.before["step"], row.after["wave"], row.reason) == (
        1,
        1,
        -1,
        "emergency",
    )


async def test_rollback_to_a_chosen_earlier_step(session, kpis):
    # given
    await waiting_world(session, kpis)
    # when
    view = await rollback_to(session, (0, 0))
    await session.commit()
    # then
    assert view.state() == {"status": "running", "wave": 0, "step": 0}
    current = (await snapshot.load(session=session))[P]
    assert current.flags[KEY].rollouts == {YEN_MO: 10_000}


@pytest.mark.parametrize("to", [(1, 1), (2, 0), (1, 2), (5, 0), (0, -1), (-1, 0), (-2, -1)])
async def test_rollback_refuses_a_step_that_is_not_earlier(session, kpis, to):
    # given: at wave 1, step 2
    world = await waiting_world(session, kpis)
    # when / then
    with pytest.raises(InvalidTransition) as raised:
        await rollback_to(session, to)
    assert raised.value.message == (
        f"Roll back to an earlier step of the plan: wave {to[0]}, step {to[1] + 1} is not one."
    )
    view = await plans.get_or_raise(session=session, province_id=P, flag_key=KEY)
    assert view.plan.version == world["version"]


async def test_a_cancelled_step_never_runs_and_is_audited(connection, session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when
    step = await schedule.cancel(
        session=session,
        province_id=P,
        step_id=world["step_id"],
        actor=ADMIN,
        reason="not needed",
        now=NOW,
    )
    await session.commit()
    # then
    assert step.status == "cancelled"
    assert list(await schedule.pending(session=session, province_id=P, flag_key=KEY)) == []
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    assert await schedule.run_due(sessionmaker=maker, kpis=kpis, worker="w1", now=LATER) == []
    [row] = await audit.query(session=session, province_ids=[P], action="schedule.cancel")
    assert (row.actor, row.reason, row.after["status"]) == (ADMIN, "not needed", "cancelled")
    with pytest.raises(StepNotFound) as raised:
        await schedule.cancel(
            session=session,
            province_id=P,
            step_id=world["step_id"],
            actor=ADMIN,
            reason="again",
            now=NOW,
        )
    assert (raised.value.code, raised.value.message) == (
        "STEP_NOT_FOUND",
        "There is no pending scheduled step with this id.",
    )
    statuses = list(await session.scalars(select(ScheduledStep.status)))
    assert statuses == ["cancelled"]


async def test_next_steps_say_their_impact_and_who_must_approve(session, kpis):
    # given: Kim Son at 100%; member counts per tenant
    await waiting_world(session, kpis)
    kpis.members = {YEN_MO: 6000, KIM_SON: 4000, HOA_LU: 1000, NHO_QUAN: 2000, GIA_VIEN: 3000}
    view = await plans.get_or_raise(session=session, province_id=P, flag_key=KEY)
    # when
    found = await next_steps.options(session=session, view=view, kpis=kpis, now=NOW)
    # then
    summary = [
        (o.action.value, o.wave, o.step, o.members, o.needs_approval, len(o.changes)) for o in found
    ]
    assert summary == [
        ("advance", 2, 0, 6000, True, 3),
        ("rollback", 1, 0, 2000, False, 1),
        ("rollback", 0, 0, 4000, False, 1),
        ("rollback", -1, -1, 10000, False, 2),
    ]
    assert [(c.tenant_id, c.before, c.after) for c in found[1].changes] == [
        (KIM_SON, 10_000, 5_000)
    ]
