"""A KpiSource that answers gates as the test chooses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rollout.kpi import (
    NOBODY,
    ActivationDay,
    Criterion,
    CriterionResult,
    GateEvaluation,
    WeeklyActive,
)


@dataclass
class FakeKpiSource:
    """Answers every gate with ``passed``; records what it was asked."""

    passed: bool = True
    curves: dict[str, list[ActivationDay]] = field(default_factory=dict)
    current: float = 0.95
    asked: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # per tenant; 0 when not given

    async def evaluate_gate(
        self,
        *,
        session: AsyncSession,
        tenant_ids: Sequence[str],
        criteria: Sequence[Criterion],
        sustain_days: int,
        as_of: dt.date,
    ) -> GateEvaluation:
        self.asked.append((tuple(tenant_ids), sustain_days))
        results = tuple(
            CriterionResult(
                tenant_id=tenant,
                metric=criterion.metric,
                minimum=criterion.minimum,
                current=self.current,
                days_held=sustain_days if self.passed else 0,
                passed=self.passed,
            )
            for tenant in tenant_ids
            for criterion in criteria
        )
        return GateEvaluation(passed=self.passed and bool(results), results=results)

    async def weekly_active_members(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, WeeklyActive]:
        return dict.fromkeys(tenant_ids, NOBODY)

    async def activation_days(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
    ) -> dict[str, list[ActivationDay]]:
        return {
            t: [d for d in self.curves.get(t, []) if first <= d.day <= last] for t in tenant_ids
        }

    async def member_counts(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, int]:
        return {tenant: self.members.get(tenant, 0) for tenant in tenant_ids}
