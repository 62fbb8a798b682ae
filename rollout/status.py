"""A plan's current state for admins: each tenant's rollout and each wave's gate, now, and
what waits (approvals, scheduled steps)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import gates, next_steps, plans, schedule, waves
from rollout.evaluation import BUCKETS
from rollout.flag_catalogue import FIRST_VERSION
from rollout.guardrail import Policy
from rollout.kpi import GateEvaluation, KpiSource
from rollout.models import Flag, FlagState, RolloutApproval, ScheduledStep, TenantRollout
from rollout.next_steps import StepOption
from tenants.read_model import province_timezone


@dataclass(frozen=True, slots=True)
class TenantState:
    tenant_id: str
    wave: int | None
    basis_points: int
    since: dt.datetime | None

    @property
    def state(self) -> str:
        if self.basis_points >= BUCKETS:
            return "on"
        return "partial" if self.basis_points > 0 else "off"


@dataclass(frozen=True, slots=True)
class Report:
    view: plans.PlanView
    flag_version: int
    tenants: list[TenantState]
    gates: list[GateEvaluation | None]  # per wave; None for wave 0 / no criteria
    flag_state: str = FlagState.ACTIVE.value  # killed: off everywhere, whatever the plan


@dataclass(frozen=True, slots=True)
class RolloutView:
    """Everything an admin reads of a plan: its report, the guardrail threshold in force, and
    the steps waiting for a second admin or for their time."""

    flag_key: str
    report: Report
    guardrail_effective_drop: float
    pending_approvals: list[RolloutApproval]
    scheduled_steps: list[ScheduledStep]
    next_steps: list[StepOption]
    requested: dict[uuid.UUID, StepOption]  # each pending approval's step, now
    timezone: str  # the province's, for the times an admin reads and types


async def report(
    *, session: AsyncSession, province_id: str, flag_key: str, kpis: KpiSource, now: dt.datetime
) -> Report | None:
    """The province's plan's tenants and gates, or None when the flag has no plan there."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag_key)
    if view is None:
        return None
    rows = {
        r.tenant_id: r
        for r in await session.scalars(
            select(TenantRollout).where(
                TenantRollout.province_id == province_id, TenantRollout.flag_key == flag_key
            )
        )
    }
    tenants = []
    for wave, tenant_ids in enumerate(view.tenants):
        for tenant_id in tenant_ids:
            row = rows.get(tenant_id)
            tenants.append(
                TenantState(
                    tenant_id, wave, row.basis_points if row else 0, row.since if row else None
                )
            )
    wave_gates: list[GateEvaluation | None] = []
    for wave, spec in enumerate(view.waves):
        has_gate = wave > 0 and bool(spec.gate_criteria)
        wave_gates.append(
            await gates.evaluate(session=session, view=view, wave=wave, kpis=kpis, now=now)
            if has_gate
            else None
        )
    flag = await session.get(Flag, (province_id, flag_key))
    if flag is None:
        return Report(view, FIRST_VERSION, tenants, wave_gates)
    return Report(view, flag.version, tenants, wave_gates, flag.state)


async def state(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    kpis: KpiSource,
    now: dt.datetime,
    policy: Policy,
) -> RolloutView | None:
    """The province's plan now (:func:`report`) with what waits, or None without a plan."""
    found = await report(
        session=session, province_id=province_id, flag_key=flag_key, kpis=kpis, now=now
    )
    if found is None:
        return None
    approvals = await waves.pending_approvals(
        session=session, province_id=province_id, flag_key=flag_key
    )
    scheduled = await schedule.pending(session=session, province_id=province_id, flag_key=flag_key)
    return RolloutView(
        flag_key=flag_key,
        report=found,
        guardrail_effective_drop=policy.drop_of(found.view.plan),
        pending_approvals=list(approvals),
        scheduled_steps=list(scheduled),
        requested=await next_steps.requested(
            session=session, view=found.view, kpis=kpis, now=now, approvals=approvals
        ),
        timezone=await province_timezone(session=session, province_id=province_id),
        next_steps=await next_steps.options(session=session, view=found.view, kpis=kpis, now=now),
    )
