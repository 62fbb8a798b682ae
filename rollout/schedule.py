"""Scheduled steps: an action due at a time, run exactly once across replicas.

Workers claim due steps with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so two replicas never run
the same step, and a plan's steps run in order; on SQLite a worker takes the database's single
write lock before it looks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Exists, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from db.sessions import lock_sqlite_for_writing
from rollout import audit, plans, waves
from rollout.errors import InvalidPlan, InvalidTransition, RolloutError, StepNotFound
from rollout.kpi import KpiSource
from rollout.models import RolloutPlan, ScheduledStep, StepStatus
from rollout.waves import Action

SCHEDULABLE = (Action.START, Action.ADVANCE, Action.PAUSE, Action.RESUME, Action.ROLLBACK)


async def schedule(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    action: Action,
    run_at: dt.datetime,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ScheduledStep:
    """Record ``action`` on the flag's plan to run at ``run_at`` (in the future)."""
    view = await plans.get_checked(
        session=session,
        province_id=province_id,
        flag_key=flag_key,
        expected_version=expected_version,
    )
    plan_id = view.plan.id
    if run_at <= now:
        raise InvalidTransition("Schedule a step in the future; run it now instead.")
    step = ScheduledStep(id=uuid.uuid4(), province_id=province_id, plan_id=plan_id, run_at=run_at)
    step.action, step.requested_by, step.reason = action.value, actor, reason
    step.requested_by_name = audit.acting_name(session)
    step.status, step.outcome = StepStatus.PENDING.value, ""
    session.add(step)
    audit.record(
        session,
        actor=actor,
        action="schedule.create",
        at=now,
        before=None,
        after={"action": action.value, "run_at": run_at.isoformat(), "id": str(step.id)},
        reason=reason,
        flag_key=flag_key,
        plan_id=plan_id,
        province_id=province_id,
    )
    return step


async def cancel(
    *,
    session: AsyncSession,
    province_id: str,
    step_id: uuid.UUID,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> ScheduledStep:
    """Cancel a pending scheduled step of the province's plan before it runs (audited)."""
    if not reason.strip():
        raise InvalidPlan("Give a reason.")
    step = await session.get(ScheduledStep, step_id)
    if step is None or step.province_id != province_id:
        raise StepNotFound()
    view = await plans.get_by_id_checked(
        session=session, plan_id=step.plan_id, expected_version=expected_version
    )
    await session.refresh(step, with_for_update=True)  # a worker may be running it now
    if step.status != StepStatus.PENDING.value:
        raise StepNotFound()
    step.status, step.ran_at, step.ran_by = StepStatus.CANCELLED.value, now, actor
    audit.record(
        session,
        actor=actor,
        action="schedule.cancel",
        at=now,
        before={"id": str(step.id), "action": step.action, "run_at": step.run_at.isoformat()},
        after={"id": str(step.id), "status": step.status},
        reason=reason,
        flag_key=view.plan.flag_key,
        plan_id=view.plan.id,
        province_id=province_id,
    )
    return step


async def pending(
    *, session: AsyncSession, province_id: str, flag_key: str
) -> Sequence[ScheduledStep]:
    """The province's plan's steps not yet run, soonest first."""
    plan_id = await plans.id_or_raise(session=session, province_id=province_id, flag_key=flag_key)
    return (
        await session.scalars(
            select(ScheduledStep)
            .where(
                ScheduledStep.plan_id == plan_id, ScheduledStep.status == StepStatus.PENDING.value
            )
            .order_by(ScheduledStep.run_at)
        )
    ).all()


async def run_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    kpis: KpiSource,
    worker: str,
    now: dt.datetime,
) -> list[uuid.UUID]:
    """Run every due step, each in its own transaction; the ids this worker ran."""
    ran: list[uuid.UUID] = []
    while (step_id := await _run_one(sessionmaker, kpis, worker, now)) is not None:
        ran.append(step_id)
    return ran


async def _run_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    kpis: KpiSource,
    worker: str,
    now: dt.datetime,
) -> uuid.UUID | None:
    async with sessionmaker() as session:
        await lock_sqlite_for_writing(session, ScheduledStep)
        step = await _next_due_step(session, now)
        if step is None:
            return None
        plan = await session.get(RolloutPlan, step.plan_id)
        assert plan is not None  # the step's foreign key
        audit.act_as(session, step.requested_by_name)  # the step's rows name its requester
        outcome = await _carry_out(session, step, plan, kpis, now)
        audit.act_as(session, None)  # the run itself is the scheduler's
        _record(session, step, plan, worker, outcome, now)
        await session.commit()
        return step.id


async def _next_due_step(session: AsyncSession, now: dt.datetime) -> ScheduledStep | None:
    """The earliest due pending step no other worker holds, locked for this one."""
    return await session.scalar(
        select(ScheduledStep)
        .where(
            ScheduledStep.status == StepStatus.PENDING.value,
            ScheduledStep.run_at <= now,
            ~_earlier_pending_step_of_its_plan(),
        )
        .order_by(ScheduledStep.run_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _record(
    session: AsyncSession,
    step: ScheduledStep,
    plan: RolloutPlan,
    worker: str,
    outcome: str,
    now: dt.datetime,
) -> None:
    """Mark the step done (or failed) by ``worker``, and audit it."""
    step.status = StepStatus.FAILED.value if outcome.startswith("failed") else StepStatus.DONE.value
    step.ran_at, step.ran_by, step.outcome = now, worker, outcome
    audit.record(
        session,
        actor=f"schedule:{worker}",
        action="schedule.run",
        at=now,
        before=None,
        after={"id": str(step.id), "action": step.action, "outcome": outcome},
        reason=step.reason,
        flag_key=plan.flag_key,
        plan_id=plan.id,
        province_id=plan.province_id,
    )


def _earlier_pending_step_of_its_plan() -> Exists:
    """A plan's steps run in order: while another worker runs (locks) an earlier step, a later
    one is not skipped to, which would run it before the step it follows."""
    earlier = aliased(ScheduledStep)
    return exists().where(
        earlier.plan_id == ScheduledStep.plan_id,
        earlier.status == StepStatus.PENDING.value,
        earlier.run_at < ScheduledStep.run_at,
    )


async def _carry_out(
    session: AsyncSession, step: ScheduledStep, plan: RolloutPlan, kpis: KpiSource, now: dt.datetime
) -> str:
    """The step's outcome; a refusal is rolled back to a savepoint and becomes the outcome."""
    try:
        async with session.begin_nested():
            return await _apply(session, step, plan, kpis, now)
    except RolloutError as exc:
        return f"failed: {exc.code}: {exc.message}"


async def _apply(
    session: AsyncSession, step: ScheduledStep, plan: RolloutPlan, kpis: KpiSource, now: dt.datetime
) -> str:
    action = Action(step.action)
    actor = step.requested_by  # the step acts with its requester's authority, in its province
    province_id, flag_key = plan.province_id, plan.flag_key
    if action in (Action.START, Action.ADVANCE):
        result = await waves.step_forward(
            session=session,
            province_id=province_id,
            flag_key=flag_key,
            action=action,
            actor=actor,
            now=now,
            kpis=kpis,
        )
        return "applied" if result.applied else "awaiting approval"
    change = {Action.ROLLBACK: waves.rollback, Action.PAUSE: waves.pause}.get(action, waves.resume)
    await change(
        session=session,
        province_id=province_id,
        flag_key=flag_key,
        actor=actor,
        reason=step.reason,
        now=now,
    )
    return "applied"
