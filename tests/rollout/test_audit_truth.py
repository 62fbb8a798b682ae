"""Every plan action in every plan status: refused without an audit row, or audited as written.

The audit row's ``after`` must be the plan's state read back from the database, never the
state an action meant to reach (a paused plan rolled back stays paused, and says so).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from rollout import audit, waves
from rollout.errors import RolloutError
from rollout.models import (
    ApprovalStatus,
    AuditEntry,
    PlanStatus,
    RolloutApproval,
    RolloutPlan,
)
from rollout.waves import Action
from tests.rollout.plan_world import ADMIN, KEY, SECOND_ADMIN, make_plan
from tests.world import NOW

PROVINCE = "ninh-binh"
Step = Callable[[Any, Any], Awaitable[Any]]


def _forward(action: Action) -> Step:
    async def run(session: Any, kpis: Any) -> Any:
        return await waves.step_forward(
            session=session,
            province_id=PROVINCE,
            flag_key=KEY,
            action=action,
            actor=ADMIN,
            now=NOW,
            kpis=kpis,
        )

    return run


def _simple(fn: Callable[..., Awaitable[Any]]) -> Step:
    async def run(session: Any, kpis: Any) -> Any:
        return await fn(
            session=session, province_id=PROVINCE, flag_key=KEY, actor=ADMIN, reason="r", now=NOW
        )

    return run


async def _approve(session: Any, kpis: Any) -> Any:
    """A pending approval of the plan's next step (as its status allows asking), then approved."""
    plan = await session.scalar(select(RolloutPlan).where(RolloutPlan.flag_key == KEY))
    wave, step = plan.current_wave, plan.current_step
    target = [0, 0] if wave < 0 else [min(wave + 1, 2), 0]
    approval = RolloutApproval(
        id=uuid.uuid4(),
        province_id=PROVINCE,
        plan_id=plan.id,
        action=(Action.START if wave < 0 else Action.ADVANCE).value,
        request={"from": [wave, step], "to": target, "override_reason": None},
        requested_by=ADMIN,
        requested_at=NOW,
        reason="",
        status=ApprovalStatus.PENDING.value,
    )
    session.add(approval)
    await session.flush()
    return await waves.approve(
        session=session,
        province_id=PROVINCE,
        approval_id=approval.id,
        actor=SECOND_ADMIN,
        now=NOW,
    )


ACTIONS: dict[str, Step] = {
    "start": _forward(Action.START),
    "advance": _forward(Action.ADVANCE),
    "pause": _simple(waves.pause),
    "resume": _simple(waves.resume),
    "rollback": _simple(waves.rollback),
    "approve": _approve,
}

# How each status is reached from a new plan: (action, approve with the second admin).
SETUPS: dict[PlanStatus, list[str]] = {
    PlanStatus.DRAFT: [],
    PlanStatus.RUNNING: ["start", "advance"],
    PlanStatus.PAUSED: ["start", "advance", "pause"],
    PlanStatus.COMPLETED: ["start", "advance", "advance", "approve"],
}

# Which actions a status allows; every other one is refused.
ALLOWED: dict[PlanStatus, set[str]] = {
    PlanStatus.DRAFT: {"start", "approve"},
    PlanStatus.RUNNING: {"advance", "pause", "rollback", "approve"},
    PlanStatus.PAUSED: {"resume", "rollback"},
    PlanStatus.COMPLETED: {"rollback"},
}


async def _written(session: Any) -> dict[str, Any]:
    status, wave, step = (
        await session.execute(
            select(RolloutPlan.status, RolloutPlan.current_wave, RolloutPlan.current_step).where(
                RolloutPlan.province_id == PROVINCE, RolloutPlan.flag_key == KEY
            )
        )
    ).one()
    return {"status": status, "wave": wave, "step": step}


async def _audit_count(session: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@pytest.mark.parametrize("status", list(SETUPS), ids=lambda s: s.value)
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_plan_action_audits_the_state_written(session, kpis, status, action):
    # given: the plan in ``status``
    await make_plan(session)
    for setup in SETUPS[status]:
        await ACTIONS[setup](session, kpis)
    await session.commit()
    before, rows_before = await _written(session), await _audit_count(session)
    assert before["status"] == status.value
    # when
    try:
        await ACTIONS[action](session, kpis)
        refused = None
    except RolloutError as exc:
        refused = exc
    await session.flush()
    # then
    after = await _written(session)
    if action not in ALLOWED[status]:
        assert refused is not None
        assert refused.code == "INVALID_TRANSITION", refused.message
        assert after == before
        assert await _audit_count(session) == rows_before
        return
    assert refused is None, refused.message if refused else None
    [row] = (
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("plan.%"))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(1)
        )
    ).all()
    assert row.action == f"plan.{action}"
    assert {k: row.after[k] for k in ("status", "wave", "step")} == after
    assert {k: row.before[k] for k in ("status", "wave", "step")} == before


async def test_rolling_back_a_paused_plan_keeps_it_paused_and_says_so(session, kpis):
    # given
    await make_plan(session)
    for setup in ("start", "advance", "pause"):
        await ACTIONS[setup](session, kpis)
    # when
    view = await ACTIONS["rollback"](session, kpis)
    await session.commit()
    # then
    [row] = (
        await session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.rollback"))
    ).all()
    assert view.state() == {"status": "paused", "wave": 0, "step": 0}
    assert row.after == {"status": "paused", "wave": 0, "step": 0}
    assert await _written(session) == row.after


async def test_an_action_the_audit_does_not_know_is_refused_and_nothing_is_added(session):
    # when
    with pytest.raises(ValueError, match=r"'plan\.teleport' is no audit action"):
        audit.record(
            session,
            actor=ADMIN,
            action="plan.teleport",
            at=NOW,
            province_id="ninh-binh",
            before=None,
            after=None,
        )
    # then
    assert [o for o in session.new if isinstance(o, AuditEntry)] == []
