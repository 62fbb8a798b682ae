"""Wave actions on both databases: gates, override, four eyes, pause, rollback, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from rollout import audit, plans, snapshot, waves
from rollout.errors import GateFailed, InvalidPlan, InvalidTransition, SelfApproval, TooEarly
from rollout.evaluation import EvaluationContext, evaluate
from rollout.gates import NoAdoptionData
from rollout.waves import Action
from tests.rollout.plan_world import ADMIN, HOA_LU, KEY, SECOND_ADMIN, add_tenants, make_plan
from tests.world import KIM_SON, NOW, YEN_MO


async def on(session, tenant: str, member: str = "m-1") -> bool:
    current = (await snapshot.load(session=session))["ninh-binh"]
    return evaluate(current, KEY, EvaluationContext(tenant=tenant, member=member)).value is True


async def start(session, kpis):
    return await waves.step_forward(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.START,
        actor=ADMIN,
        now=NOW,
        kpis=kpis,
    )


async def advance(session, kpis, actor=ADMIN, reason=None):
    return await waves.step_forward(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.ADVANCE,
        actor=actor,
        now=NOW,
        kpis=kpis,
        override_reason=reason,
    )


async def test_new_plan_is_draft_and_everything_off(session):
    # when
    view = await make_plan(session)
    # then
    assert view.state() == {"status": "draft", "wave": -1, "step": -1}
    assert view.tenants == [[YEN_MO], [KIM_SON], ["gia-vien", HOA_LU, "nho-quan"]]
    assert not await on(session, YEN_MO)


async def test_start_turns_the_pilot_on_and_audits(session, kpis):
    # given
    await make_plan(session)
    # when
    outcome = await start(session, kpis)
    await session.commit()
    # then
    assert outcome.applied
    assert outcome.view.state() == {"status": "running", "wave": 0, "step": 0}
    assert await on(session, YEN_MO)
    assert not await on(session, KIM_SON)
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.start")
    assert (row.actor, row.before, row.after) == (
        ADMIN,
        {"status": "draft", "wave": -1, "step": -1},
        {"status": "running", "wave": 0, "step": 0},
    )


async def test_advance_through_a_passing_gate_ramps_the_next_wave(session, kpis):
    # given
    await make_plan(session)
    await start(session, kpis)
    # when
    outcome = await advance(session, kpis)
    await session.commit()
    # then: Kim Son at 50%: the gate read Yen Mo over 14 days
    assert outcome.applied
    assert outcome.gate is not None
    assert outcome.gate.passed
    assert kpis.asked == [((YEN_MO,), 14)]
    current = (await snapshot.load(session=session))["ninh-binh"]
    assert current.flags[KEY].rollouts == {YEN_MO: 10_000, KIM_SON: 5_000}


async def test_failing_gate_refuses_without_a_reason(session, kpis):
    # given
    await make_plan(session)
    await start(session, kpis)
    kpis.passed, kpis.current = False, 0.5
    # when / then
    with pytest.raises(GateFailed) as raised:
        await advance(session, kpis)
    assert raised.value.code == "GATE_FAILED"
    assert raised.value.message == (
        "The gate of wave 'wave 1' fails (yen-mo activation_rate 50% < 90%; "
        "yen-mo monthly_active_rate 50% < 80%); override it with a written reason."
    )


async def test_override_with_a_reason_advances_and_is_audited(session, kpis):
    # given
    await make_plan(session)
    await start(session, kpis)
    kpis.passed = False
    # when
    outcome = await advance(session, kpis, reason="Kim Son committee asked to start early")
    # then
    assert outcome.applied
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.advance")
    assert row.reason == "Kim Son committee asked to start early"
    assert row.after == {"status": "running", "wave": 1, "step": 0, "gate_overridden": True}


async def test_without_adoption_the_gate_fails_saying_so(session):
    # given
    await make_plan(session)
    await start(session, NoAdoptionData())
    # when / then
    with pytest.raises(GateFailed) as raised:
        await advance(session, NoAdoptionData())
    assert "(no adoption data)" in raised.value.message


async def test_last_wave_needs_a_second_admin(session, kpis):
    # given: Kim Son at 100%
    await make_plan(session)
    await start(session, kpis)
    await advance(session, kpis)
    await advance(session, kpis)
    # when
    requested = await advance(session, kpis)
    # then: nothing changed yet
    assert not requested.applied
    assert requested.approval is not None
    assert not await on(session, HOA_LU)
    with pytest.raises(SelfApproval) as raised:
        await waves.approve(
            session=session,
            province_id="ninh-binh",
            approval_id=requested.approval.id,
            actor=ADMIN,
            now=NOW,
        )
    assert raised.value.message == "A second province admin must approve: the requester cannot."
    approved = await waves.approve(
        session=session,
        province_id="ninh-binh",
        approval_id=requested.approval.id,
        actor=SECOND_ADMIN,
        now=NOW,
    )
    await session.commit()
    assert approved.view.state() == {"status": "completed", "wave": 2, "step": 0}
    assert await on(session, HOA_LU)
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.approve")
    assert (row.actor, row.after["requested_by"]) == (SECOND_ADMIN, ADMIN)


async def test_more_than_half_the_tenants_needs_approval(session, kpis):
    # given: wave 0 holds three of five tenants
    await add_tenants(session)
    await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        now=NOW,
        waves=[plans.WaveSpec("big", [YEN_MO, KIM_SON, HOA_LU]), plans.WaveSpec("x", ["gia-vien"])],
    )
    # when
    outcome = await start(session, kpis)
    # then
    assert not outcome.applied
    assert [
        a.id
        for a in await waves.pending_approvals(
            session=session, province_id="ninh-binh", flag_key=KEY
        )
    ] == [outcome.approval.id]


async def test_rollback_is_instant_to_the_previous_wave(session, kpis):
    # given: Kim Son at 50%
    await make_plan(session)
    await start(session, kpis)
    await advance(session, kpis)
    # when
    view = await waves.rollback(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        reason="complaints",
        now=NOW,
    )
    await session.commit()
    # then
    assert view.state() == {"status": "running", "wave": 0, "step": 0}
    current = (await snapshot.load(session=session))["ninh-binh"]
    assert current.flags[KEY].rollouts == {YEN_MO: 10_000}
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], action="plan.rollback")
    assert (row.before["wave"], row.after["wave"], row.reason) == (1, 0, "complaints")


async def test_pause_blocks_advance_until_resumed(session, kpis):
    # given
    await make_plan(session)
    await start(session, kpis)
    await waves.pause(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        reason="holiday",
        now=NOW,
    )
    # when / then
    with pytest.raises(InvalidTransition) as raised:
        await advance(session, kpis)
    assert raised.value.message == "Cannot advance the plan of 'handbook': it is paused."
    await waves.resume(
        session=session, province_id="ninh-binh", flag_key=KEY, actor=ADMIN, reason="back", now=NOW
    )
    assert (await advance(session, kpis)).applied


async def test_guardrail_pauses_a_wave_as_system(session, kpis):
    # given
    await make_plan(session)
    await start(session, kpis)
    # when
    view = await waves.pause_wave(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        wave=0,
        reason="weekly active fell 35%",
        now=NOW,
    )
    # then
    assert view is not None
    assert view.plan.status == "paused"
    [row] = await audit.query(session=session, province_ids=["ninh-binh"], actor="system")
    assert (row.action, row.after["paused_wave"], row.reason) == (
        "plan.pause",
        0,
        "weekly active fell 35%",
    )


async def test_earliest_start_is_respected(session, kpis):
    # given
    await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        actor=ADMIN,
        now=NOW,
        waves=[
            plans.WaveSpec("pilot", [YEN_MO]),
            plans.WaveSpec("later", [KIM_SON], earliest_start=NOW + dt.timedelta(days=3)),
        ],
    )
    await start(session, kpis)
    # when / then
    with pytest.raises(TooEarly) as raised:
        await advance(session, kpis)
    assert raised.value.message == (
        "The wave 'later' may not start before 2026-11-28T03:00:00+00:00."
    )


async def test_a_plan_may_not_repeat_a_tenant(session):
    with pytest.raises(InvalidPlan) as raised:
        await plans.create(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            actor=ADMIN,
            now=NOW,
            waves=[plans.WaveSpec("a", [YEN_MO]), plans.WaveSpec("b", [YEN_MO])],
        )
    assert raised.value.message == "The wave 'b' repeats a tenant of an earlier wave."
