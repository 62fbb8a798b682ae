"""The steps an admin may take on a plan now, each with what it changes and whether a second admin
must approve it: the console shows these and never works them out itself."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import waves
from rollout.evaluation import BUCKETS
from rollout.gates import local_day
from rollout.kpi import KpiSource
from rollout.models import PlanStatus, RolloutApproval
from rollout.plans import NOT_STARTED, PlanView
from rollout.waves import Action


@dataclass(frozen=True, slots=True)
class TenantChange:
    tenant_id: str
    before: int  # basis points
    after: int


@dataclass(frozen=True, slots=True)
class StepOption:
    action: Action
    wave: int
    step: int
    changes: tuple[TenantChange, ...]  # only the tenants whose percentage changes
    needs_approval: bool
    members: int  # members who gain (or, rolling back, lose) the flag, by their tenants' share


def _changes(view: PlanView, target: tuple[int, int]) -> tuple[TenantChange, ...]:
    out: list[TenantChange] = []
    for wave, tenant_ids in enumerate(view.tenants):
        before, after = view.basis_points(wave, view.position), view.basis_points(wave, target)
        if before != after:
            out.extend(TenantChange(t, before, after) for t in tenant_ids)
    return tuple(out)


def _members(changes: tuple[TenantChange, ...], counts: dict[str, int]) -> int:
    moved = sum(counts.get(c.tenant_id, 0) * abs(c.after - c.before) for c in changes)
    return round(moved / BUCKETS)


def earlier_positions(view: PlanView) -> list[tuple[int, int]]:
    """Every position before the plan's, nearest first, down to (-1, -1) (nothing on)."""
    if view.position == NOT_STARTED:
        return []
    out = [(w, s) for w in range(view.position[0] + 1) for s in range(len(view.waves[w].ramp))]
    return [p for p in reversed(out) if p < view.position] + [NOT_STARTED]


async def _counts(
    session: AsyncSession, view: PlanView, kpis: KpiSource, now: dt.datetime
) -> dict[str, int]:
    tenant_ids = [t for ts in view.tenants for t in ts]
    return await kpis.member_counts(session=session, tenant_ids=tenant_ids, as_of=local_day(now))


async def requested(
    *,
    session: AsyncSession,
    view: PlanView,
    kpis: KpiSource,
    now: dt.datetime,
    approvals: Sequence[RolloutApproval],
) -> dict[uuid.UUID, StepOption]:
    """What each pending approval's step would change if approved now, by approval id."""
    if not approvals:
        return {}
    counts = await _counts(session, view, kpis, now)
    out = {}
    for approval in approvals:
        target = (approval.request["to"][0], approval.request["to"][1])
        changes = _changes(view, target)
        action = Action(approval.action)
        out[approval.id] = StepOption(action, *target, changes, True, _members(changes, counts))
    return out


async def options(
    *, session: AsyncSession, view: PlanView, kpis: KpiSource, now: dt.datetime
) -> list[StepOption]:
    """The forward step (start or advance) when the plan's status allows one, then every
    rollback target; a rollback never needs a second admin (it only narrows)."""
    counts = await _counts(session, view, kpis, now)
    out = []
    status = view.plan.status
    forward = waves.next_position(view)
    if forward is not None and status in (PlanStatus.DRAFT.value, PlanStatus.RUNNING.value):
        action = Action.START if status == PlanStatus.DRAFT.value else Action.ADVANCE
        changes = _changes(view, forward)
        approval = await waves.needs_approval(session, view, forward)
        out.append(StepOption(action, *forward, changes, approval, _members(changes, counts)))
    for target in earlier_positions(view):
        changes = _changes(view, target)
        out.append(StepOption(Action.ROLLBACK, *target, changes, False, _members(changes, counts)))
    return out
