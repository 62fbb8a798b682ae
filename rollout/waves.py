"""Wave actions on a plan: start, advance, pause, resume, roll back; approvals (four eyes).

Each action checks the plan's status, writes its audit row, and leaves committing to the caller.
An action that is refused raises before it changes anything and writes no audit row; an applied
one records the plan's state as written (status, wave, step read from the plan row after the
change), so the audit never claims a state the plan is not in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import approvals, audit, gates, plans
from rollout.errors import (
    ApprovalNotFound,
    GateFailed,
    InvalidTransition,
    SelfApproval,
    TooEarly,
)
from rollout.kpi import GateEvaluation, KpiSource
from rollout.models import ApprovalStatus, PlanStatus, RolloutApproval, RolloutPlan
from rollout.plans import NOT_STARTED, PlanView


class Action(StrEnum):
    START = "start"
    ADVANCE = "advance"
    PAUSE = "pause"
    RESUME = "resume"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    view: PlanView
    applied: bool  # False: waiting for a second admin's approval
    approval: RolloutApproval | None = None
    gate: GateEvaluation | None = None


def next_position(view: PlanView) -> tuple[int, int] | None:
    wave, step = view.position
    if wave >= 0 and step + 1 < len(view.waves[wave].ramp):
        return wave, step + 1
    return (wave + 1, 0) if wave + 1 < len(view.waves) else None


def _previous(view: PlanView) -> tuple[int, int]:
    wave, step = view.position
    if step > 0:
        return wave, step - 1
    return (wave - 1, len(view.waves[wave - 1].ramp) - 1) if wave > 0 else NOT_STARTED


def _status_after(view: PlanView, position: tuple[int, int]) -> PlanStatus:
    if position == NOT_STARTED:
        return PlanStatus.DRAFT
    last_wave = len(view.waves) - 1
    if position == (last_wave, len(view.waves[last_wave].ramp) - 1):
        return PlanStatus.COMPLETED
    return PlanStatus.RUNNING


def _record(
    session: AsyncSession,
    view: PlanView,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    before: dict[str, Any],
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    after = {**view.state(), **(extra or {})}
    audit.record(
        session,
        actor=actor,
        action=f"plan.{action}",
        at=now,
        before=before,
        after=after,
        reason=reason,
        flag_key=view.plan.flag_key,
        plan_id=view.plan.id,
        province_id=view.plan.province_id,
    )


async def needs_approval(session: AsyncSession, view: PlanView, position: tuple[int, int]) -> bool:
    """More than half the province's tenants on, or any step of the last wave."""
    if position[0] == len(view.waves) - 1:
        return True
    on = sum(len(ts) for w, ts in enumerate(view.tenants) if view.basis_points(w, position) > 0)
    return on * 2 > await plans.province_tenant_count(session=session, view=view)


async def step_forward(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    action: Action,
    actor: str,
    now: dt.datetime,
    kpis: KpiSource,
    override_reason: str | None = None,
    expected_version: int | None = None,
) -> StepOutcome:
    """Start (from draft) or advance (when running) by one ramp step or wave."""
    view = await _locked(session, province_id, flag_key, expected_version)
    expected = PlanStatus.DRAFT if action is Action.START else PlanStatus.RUNNING
    if view.plan.status != expected.value:
        raise InvalidTransition(
            f"Cannot {action.value} the plan of {flag_key!r}: it is {view.plan.status}."
        )
    target = next_position(view)
    if target is None:
        raise InvalidTransition(f"The plan of {flag_key!r} is at its last step.")
    gate = None
    if target[0] != view.position[0]:
        gate = await _check_gate(session, view, target[0], kpis, now, override_reason)
    if await needs_approval(session, view, target):
        approval = _request_approval(session, view, action, target, actor, now, override_reason)
        return StepOutcome(view, applied=False, approval=approval, gate=gate)
    await _move(
        session,
        view,
        target,
        actor=actor,
        action=action.value,
        now=now,
        reason=override_reason or "",
        gate=gate,
    )
    return StepOutcome(view, applied=True, gate=gate)


async def _check_gate(
    session: AsyncSession,
    view: PlanView,
    wave: int,
    kpis: KpiSource,
    now: dt.datetime,
    override_reason: str | None,
) -> GateEvaluation:
    earliest = view.waves[wave].earliest_start
    if earliest is not None and now < earliest:
        raise TooEarly(
            f"The wave {view.waves[wave].name!r} may not start before {earliest.isoformat()}."
        )
    gate = await gates.evaluate(session=session, view=view, wave=wave, kpis=kpis, now=now)
    if not gate.passed and not (override_reason or "").strip():
        raise GateFailed(
            f"The gate of wave {view.waves[wave].name!r} fails "
            f"({gates.describe_failure(gate)}); override it with a written reason."
        )
    return gate


async def _move(
    session: AsyncSession,
    view: PlanView,
    target: tuple[int, int],
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    reason: str,
    gate: GateEvaluation | None = None,
    extra: dict[str, Any] | None = None,
    status: PlanStatus | None = None,
) -> None:
    """Apply ``target`` and set the plan's status (``status``, or what the position implies),
    then audit the state written."""
    before = view.state()
    await plans.apply(session=session, view=view, position=target, now=now)
    view.plan.status = (status or _status_after(view, target)).value
    await session.flush()
    await approvals.invalidate_moved(session=session, view=view, actor=actor, now=now)
    details = dict(extra or {})
    if gate is not None and not gate.passed:
        details["gate_overridden"] = True
    _record(
        session,
        view,
        actor=actor,
        action=action,
        now=now,
        before=before,
        reason=reason,
        extra=details,
    )


def _request_approval(
    session: AsyncSession,
    view: PlanView,
    action: Action,
    target: tuple[int, int],
    actor: str,
    now: dt.datetime,
    override_reason: str | None,
) -> RolloutApproval:
    approval = RolloutApproval(
        id=uuid.uuid4(),
        province_id=view.plan.province_id,
        plan_id=view.plan.id,
        action=action.value,
        request={
            "from": list(view.position),
            "to": list(target),
            "override_reason": override_reason,
        },
        requested_by=actor,
        requested_by_name=audit.acting_name(session),
        requested_at=now,
        reason=override_reason or "",
        status=ApprovalStatus.PENDING.value,
    )
    session.add(approval)
    audit.record(
        session,
        actor=actor,
        action="approval.request",
        at=now,
        before=view.state(),
        after={"wave": target[0], "step": target[1], "approval_id": str(approval.id)},
        reason=override_reason or "",
        flag_key=view.plan.flag_key,
        plan_id=view.plan.id,
        province_id=view.plan.province_id,
    )
    return approval


async def approve(
    *,
    session: AsyncSession,
    province_id: str,
    approval_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> StepOutcome:
    """A second admin of the province carries out its pending step; the requester cannot.

    Another province's approval answers as one that does not exist.
    """
    approval = await _pending_approval_or_raise(session, province_id, approval_id, actor)
    plan = await session.get(RolloutPlan, approval.plan_id)
    assert plan is not None  # the approval's foreign key
    view = await _locked(session, province_id, plan.flag_key, expected_version)
    await session.refresh(approval)  # as it is now that the plan is locked
    if approval.status != ApprovalStatus.PENDING.value:
        raise ApprovalNotFound()
    _check_unmoved(view, approval)
    target = (approval.request["to"][0], approval.request["to"][1])
    approval.status, approval.approved_by, approval.approved_at = (
        ApprovalStatus.APPROVED.value,
        actor,
        now,
    )
    extra = {"approval_id": str(approval.id), "requested_by": approval.requested_by}
    await _move(
        session,
        view,
        target,
        actor=actor,
        action="approve",
        now=now,
        reason=approval.reason,
        extra=extra,
    )
    return StepOutcome(view, applied=True, approval=approval)


def _check_unmoved(view: PlanView, approval: RolloutApproval) -> None:
    """Refuse an approval whose plan is no longer where the step was requested from."""
    expected = PlanStatus.DRAFT if approval.action == Action.START.value else PlanStatus.RUNNING
    if view.plan.status != expected.value:
        # A paused plan stays frozen: its pending step waits until it is resumed.
        plan = view.plan
        raise InvalidTransition(
            f"Cannot approve a step of the plan of {plan.flag_key!r}: it is {plan.status}."
        )
    if list(view.position) != approval.request["from"]:
        raise InvalidTransition("The plan moved since this step was requested; request it again.")


async def _pending_approval_or_raise(
    session: AsyncSession, province_id: str, approval_id: uuid.UUID, actor: str
) -> RolloutApproval:
    approval = await session.get(RolloutApproval, approval_id)
    if (
        approval is None
        or approval.province_id != province_id
        or approval.status != ApprovalStatus.PENDING.value
    ):
        raise ApprovalNotFound()
    if approval.requested_by == actor:
        raise SelfApproval()
    return approval


async def pending_approvals(
    *, session: AsyncSession, province_id: str, flag_key: str
) -> list[RolloutApproval]:
    """The province's plan's steps waiting for a second admin, oldest first."""
    plan_id = await plans.id_or_raise(session=session, province_id=province_id, flag_key=flag_key)
    rows = await session.scalars(
        select(RolloutApproval)
        .where(
            RolloutApproval.plan_id == plan_id,
            RolloutApproval.status == ApprovalStatus.PENDING.value,
        )
        .order_by(RolloutApproval.requested_at)
    )
    return list(rows)


async def rollback(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
    to: tuple[int, int] | None = None,
) -> PlanView:
    """Instantly back to ``to`` (an earlier position; (-1, -1): everything off), by default the
    previous step's state (the previous wave's, at a wave's start).

    A rollback only narrows who has the flag, so it never waits for a second admin: an emergency
    stop must not.
    """
    view = await _locked(session, province_id, flag_key, expected_version)
    if view.position == NOT_STARTED:
        raise InvalidTransition(f"The plan of {flag_key!r} has not started: nothing to roll back.")
    target = _previous(view) if to is None else _earlier_or_raise(view, to)
    # A paused plan stays paused (back at draft once nothing is on).
    paused = view.plan.status == PlanStatus.PAUSED.value and target != NOT_STARTED
    await _move(
        session,
        view,
        target,
        actor=actor,
        action="rollback",
        now=now,
        reason=reason,
        status=PlanStatus.PAUSED if paused else None,
    )
    return view


def _earlier_or_raise(view: PlanView, to: tuple[int, int]) -> tuple[int, int]:
    """``to`` when it is a position of the plan before its current one."""
    wave, step = to
    valid = to == NOT_STARTED or (
        0 <= wave < len(view.waves) and 0 <= step < len(view.waves[wave].ramp)
    )
    if not valid or to >= view.position:
        raise InvalidTransition(
            f"Roll back to an earlier step of the plan: wave {wave}, step {step + 1} is not one."
        )
    return to


async def pause(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> PlanView:
    """Freeze a running plan: no advance or scheduled step until resumed."""
    view = await _locked(session, province_id, flag_key, expected_version)
    return _set_status(
        session,
        view,
        PlanStatus.RUNNING,
        PlanStatus.PAUSED,
        actor=actor,
        reason=reason,
        now=now,
        action="pause",
    )


async def resume(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> PlanView:
    """Let a paused plan advance again."""
    view = await _locked(session, province_id, flag_key, expected_version)
    return _set_status(
        session,
        view,
        PlanStatus.PAUSED,
        PlanStatus.RUNNING,
        actor=actor,
        reason=reason,
        now=now,
        action="resume",
    )


async def pause_wave(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    wave: int,
    reason: str,
    now: dt.datetime,
    actor: str = "system",
) -> PlanView | None:
    """Pause the plan because of ``wave`` (e.g. the adoption guardrail); None if not running."""
    view = await _locked(session, province_id, flag_key)
    if view.plan.status != PlanStatus.RUNNING.value or wave > view.plan.current_wave:
        return None
    return _set_status(
        session,
        view,
        PlanStatus.RUNNING,
        PlanStatus.PAUSED,
        actor=actor,
        reason=reason,
        now=now,
        action="pause",
        extra={"paused_wave": wave},
    )


async def _locked(
    session: AsyncSession, province_id: str, flag_key: str, expected_version: int | None = None
) -> PlanView:
    return await plans.get_checked(
        session=session,
        province_id=province_id,
        flag_key=flag_key,
        expected_version=expected_version,
    )


def _set_status(
    session: AsyncSession,
    view: PlanView,
    expected: PlanStatus,
    new: PlanStatus,
    *,
    actor: str,
    reason: str,
    now: dt.datetime,
    action: str,
    extra: dict[str, Any] | None = None,
) -> PlanView:
    if view.plan.status != expected.value:
        raise InvalidTransition(
            f"Cannot {action} the plan of {view.plan.flag_key!r}: it is {view.plan.status}."
        )
    before = view.state()
    view.plan.status = new.value
    view.plan.version += 1
    view.plan.updated_at = now
    _record(
        session,
        view,
        actor=actor,
        action=action,
        now=now,
        before=before,
        reason=reason,
        extra=extra,
    )
    return view
