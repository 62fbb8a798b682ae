"""Gates: judge a wave's adoption criteria over the earlier waves' tenants via a KpiSource."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from rollout.kpi import NOBODY, ActivationDay, Criterion, GateEvaluation, KpiSource, WeeklyActive
from rollout.plans import PlanView, criteria_of

PROVINCE_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def local_day(now: dt.datetime) -> dt.date:
    return now.astimezone(PROVINCE_ZONE).date()


async def evaluate(
    *, session: AsyncSession, view: PlanView, wave: int, kpis: KpiSource, now: dt.datetime
) -> GateEvaluation:
    """The gate of ``wave`` over the tenants of every earlier wave; wave 0 has no gate."""
    earlier = [t for ts in view.tenants[:wave] for t in ts]
    spec = view.waves[wave]
    criteria = criteria_of(spec)
    if wave == 0 or not criteria:
        return GateEvaluation(passed=True, results=())
    return await kpis.evaluate_gate(
        session=session,
        tenant_ids=earlier,
        criteria=criteria,
        sustain_days=spec.gate_sustain_days,
        as_of=local_day(now),
    )


def describe_failure(evaluation: GateEvaluation) -> str:
    """One line naming each failing tenant and criterion."""
    failing = [
        f"{r.tenant_id} {r.metric.value} "
        f"{'n/a' if r.current is None else f'{r.current:.0%}'} < {r.minimum:.0%}"
        if r.current is None or r.current < r.minimum
        else f"{r.tenant_id} {r.metric.value} held {r.days_held} days"
        for r in evaluation.results
        if not r.passed
    ]
    return "; ".join(failing) or "no adoption data"


class NoAdoptionData:
    """A KpiSource without adoption data (the rollout demo, tests): every gate fails, saying why."""

    async def evaluate_gate(
        self,
        *,
        session: AsyncSession,
        tenant_ids: Sequence[str],
        criteria: Sequence[Criterion],
        sustain_days: int,
        as_of: dt.date,
    ) -> GateEvaluation:
        return GateEvaluation(passed=False, results=())

    async def weekly_active_members(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, WeeklyActive]:
        return dict.fromkeys(tenant_ids, NOBODY)

    async def activation_days(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
    ) -> dict[str, list[ActivationDay]]:
        return {}

    async def member_counts(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, int]:
        return dict.fromkeys(tenant_ids, 0)
