"""Pending approvals end without running: invalidated when the plan moves, withdrawn by their
requester, rejected by a second admin; each audited with its reason (both databases)."""

from __future__ import annotations

import pytest

from rollout import approvals, audit, waves
from rollout.errors import ApprovalNotFound, InvalidPlan, NotRequester, SelfApproval
from tests.rollout.plan_actions import P, act
from tests.rollout.plan_world import ADMIN, KEY, SECOND_ADMIN
from tests.rollout.test_plan_versions import waiting_world
from tests.world import NOW


async def pending_ids(session) -> list:
    rows = await waves.pending_approvals(session=session, province_id=P, flag_key=KEY)
    return [a.id for a in rows]


@pytest.mark.parametrize("move", ["rollback", "rollback_to"])
async def test_a_request_is_invalidated_when_the_plan_moves_and_audited(session, kpis, move):
    # given
    world = await waiting_world(session, kpis)
    # when
    await act(move, session, world["version"], world)
    await session.commit()
    # then
    assert await pending_ids(session) == []
    [row] = await audit.query(session=session, province_ids=[P], action="approval.invalidate")
    assert row.after["approval_id"] == str(world["approval_id"])
    assert (row.after["status"], row.after["requested_by"], row.actor) == (
        "invalidated",
        ADMIN,
        ADMIN,
    )
    assert row.reason == "The plan moved from wave 1, step 2 where this step was asked."
    with pytest.raises(ApprovalNotFound):
        await act("approve", session, None, world)


async def test_pause_keeps_a_request_waiting(session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when
    await act("pause", session, world["version"], world)
    await session.commit()
    # then
    assert await pending_ids(session) == [world["approval_id"]]


async def test_the_requester_withdraws_with_a_reason(session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when
    ended = await approvals.withdraw(
        session=session,
        province_id=P,
        approval_id=world["approval_id"],
        actor=ADMIN,
        reason="too soon",
        now=NOW,
    )
    await session.commit()
    # then
    assert ended.status == "withdrawn"
    assert await pending_ids(session) == []
    [row] = await audit.query(session=session, province_ids=[P], action="approval.withdraw")
    assert (row.actor, row.reason, row.after["to"]) == (ADMIN, "too soon", [2, 0])


async def test_only_the_requester_withdraws(session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when / then
    with pytest.raises(NotRequester) as raised:
        await approvals.withdraw(
            session=session,
            province_id=P,
            approval_id=world["approval_id"],
            actor=SECOND_ADMIN,
            reason="x",
            now=NOW,
        )
    assert raised.value.code == "NOT_REQUESTER"
    assert raised.value.message == (
        "Only the admin who requested this step may withdraw it; reject it instead."
    )


async def test_a_second_admin_rejects_with_a_reason_the_requester_cannot(session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when / then
    with pytest.raises(SelfApproval):
        await approvals.reject(
            session=session,
            province_id=P,
            approval_id=world["approval_id"],
            actor=ADMIN,
            reason="x",
            now=NOW,
        )
    ended = await approvals.reject(
        session=session,
        province_id=P,
        approval_id=world["approval_id"],
        actor=SECOND_ADMIN,
        reason="gate weak",
        now=NOW,
    )
    await session.commit()
    assert ended.status == "rejected"
    [row] = await audit.query(session=session, province_ids=[P], action="approval.reject")
    assert (row.actor, row.reason, row.after["requested_by"]) == (SECOND_ADMIN, "gate weak", ADMIN)
    with pytest.raises(ApprovalNotFound):
        await act("approve", session, None, world)


@pytest.mark.parametrize("reason", ["", "   "])
async def test_withdraw_and_reject_need_a_reason(session, kpis, reason):
    # given
    world = await waiting_world(session, kpis)
    # when / then
    for fn, actor in ((approvals.withdraw, ADMIN), (approvals.reject, SECOND_ADMIN)):
        with pytest.raises(InvalidPlan) as raised:
            await fn(
                session=session,
                province_id=P,
                approval_id=world["approval_id"],
                actor=actor,
                reason=reason,
                now=NOW,
            )
        assert raised.value.message == "Give a reason."
    assert await pending_ids(session) == [world["approval_id"]]


async def test_another_provinces_approval_answers_as_missing(session, kpis):
    # given
    world = await waiting_world(session, kpis)
    # when / then
    with pytest.raises(ApprovalNotFound):
        await approvals.reject(
            session=session,
            province_id="other",
            approval_id=world["approval_id"],
            actor=SECOND_ADMIN,
            reason="x",
            now=NOW,
        )
