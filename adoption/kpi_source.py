"""Rollout's :class:`rollout.kpi.KpiSource`, answered from the adoption rollups.

The gateway hands :class:`AdoptionKpis` to rollout at start-up; rollout never imports adoption.

"Monthly active" for gates is the rolling 30 local days ending on the day judged, so a gate does
not fail on the 1st of a month. ``days_held`` counts consecutive days ending ``as_of`` and looks
back at most ``sustain_days`` days (one day when ``sustain_days`` is 0).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import counters, scope
from adoption.models import AdoptionMemberDay
from rollout.kpi import (
    ActivationDay,
    Criterion,
    CriterionResult,
    GateEvaluation,
    Metric,
    WeeklyActive,
)

ROLLING_DAYS = 30
WEEK = 7


async def daily_values(
    *, session: AsyncSession, tenant_ids: Sequence[str], days: Sequence[dt.date]
) -> dict[str, dict[Metric, dict[dt.date, float | None]]]:
    """Each gate metric of each tenant on each of ``days``: a fixed handful of queries for any
    number of tenants."""
    first, last = min(days), max(days)
    joined_by = await counters.members(session, tenant_ids, first, last)
    activated_by = await counters.activated(session, tenant_ids, last)
    rolling = await _rolling_active(session, tenant_ids, first, last)
    result: dict[str, dict[Metric, dict[dt.date, float | None]]] = {}
    for tenant_id in tenant_ids:
        joined = joined_by.get(tenant_id, counters.Cumulative(()))
        activated = activated_by.get(tenant_id, counters.Cumulative(()))
        active = rolling.get(tenant_id, {})
        values: dict[Metric, dict[dt.date, float | None]] = {m: {} for m in Metric}
        for day in days:
            members = joined.upto(day)
            values[Metric.ACTIVATION_RATE][day] = _rate(activated.upto(day), members)
            values[Metric.MONTHLY_ACTIVE_RATE][day] = _rate(active.get(day, 0), members)
        result[tenant_id] = values
    return result


def _rate(count: int, members: int) -> float | None:
    return count / members if members else None


async def _rolling_active(
    session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
) -> dict[str, dict[dt.date, int]]:
    """Per tenant: distinct members active in the 30 days ending each day from ``first`` to
    ``last``."""
    since = first - dt.timedelta(days=ROLLING_DAYS - 1)
    rows = await session.execute(
        select(
            AdoptionMemberDay.tenant_id, AdoptionMemberDay.day, AdoptionMemberDay.member_id
        ).where(
            AdoptionMemberDay.tenant_id.in_(tenant_ids),
            AdoptionMemberDay.day.between(since, last),
        )
    )
    by_day: dict[str, dict[dt.date, list[uuid.UUID]]] = defaultdict(lambda: defaultdict(list))
    for tenant_id, day, member in rows:
        by_day[tenant_id][day].append(member)
    return {t: _slide(days, since, first, last) for t, days in by_day.items()}


def _slide(
    by_day: dict[dt.date, list[uuid.UUID]], since: dt.date, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    window: Counter[uuid.UUID] = Counter()
    result: dict[dt.date, int] = {}
    day = since
    while day <= last:
        window.update(by_day.get(day, []))
        leaving = day - dt.timedelta(days=ROLLING_DAYS)
        window.subtract(by_day.get(leaving, []))
        if day >= first:
            result[day] = sum(1 for count in window.values() if count > 0)
        day += dt.timedelta(days=1)
    return result


async def evaluate_gate(
    *,
    session: AsyncSession,
    tenant_ids: Sequence[str],
    criteria: Sequence[Criterion],
    sustain_days: int,
    as_of: dt.date,
) -> GateEvaluation:
    """Judge every criterion for every tenant over the days ending ``as_of``."""
    window = max(sustain_days, 1)
    days = [as_of - dt.timedelta(days=i) for i in range(window)]  # as_of first
    results: list[CriterionResult] = []
    values_of = await daily_values(session=session, tenant_ids=tenant_ids, days=days)
    for tenant_id in tenant_ids:
        values = values_of[tenant_id]
        for criterion in criteria:
            series = [values[criterion.metric][day] for day in days]
            held = 0
            for value in series:
                if value is None or value < criterion.minimum:
                    break
                held += 1
            results.append(
                CriterionResult(
                    tenant_id=tenant_id,
                    metric=criterion.metric,
                    minimum=criterion.minimum,
                    current=series[0],
                    days_held=held,
                    passed=held >= sustain_days and held > 0,
                )
            )
    passed = bool(results) and all(r.passed for r in results)
    return GateEvaluation(passed=passed and bool(tenant_ids), results=tuple(results))


async def weekly_active_members(
    *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
) -> dict[str, WeeklyActive]:
    """Per tenant: distinct active in the 7 local days ending ``as_of``, and the 7 before."""
    week = dt.timedelta(days=WEEK)
    recent = await counters.distinct_active_by_tenant(
        session, tenant_ids, as_of - week + dt.timedelta(days=1), as_of
    )
    earlier = await counters.distinct_active_by_tenant(
        session, tenant_ids, as_of - 2 * week + dt.timedelta(days=1), as_of - week
    )
    return {t: WeeklyActive(recent.get(t, 0), earlier.get(t, 0)) for t in tenant_ids}


async def activation_days(
    *, session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
) -> dict[str, list[ActivationDay]]:
    """Per tenant: members and activated members on each local day from ``first`` to ``last``,
    from the daily rollups (three queries for any number of tenants and days)."""
    joined_by = await counters.members(session, tenant_ids, first, last)
    before = await counters.first_days_before(session, tenant_ids, first)
    totals = await counters.period_totals(session, tenant_ids, first, last, None)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    eve = first - dt.timedelta(days=1)
    result: dict[str, list[ActivationDay]] = {}
    for tenant_id in tenant_ids:
        joined = joined_by.get(tenant_id, counters.Cumulative(()))
        by_day = totals.get(tenant_id, {})
        activated = counters.Cumulative(
            [(eve, before.get(tenant_id, (0, 0))[0])]
            + [(day, by_day[day].new_activations) for day in sorted(by_day)]
        )
        result[tenant_id] = [
            ActivationDay(day, activated.upto(day), joined.upto(day)) for day in days
        ]
    return result


class AdoptionKpis:
    """:class:`rollout.kpi.KpiSource` over the adoption rollups.

    Rollout asks across tenants (a wave, the province), so each province's tenants are read
    through that province's read-only path (:mod:`.scope`), whatever the session's tenant.
    """

    async def evaluate_gate(
        self,
        *,
        session: AsyncSession,
        tenant_ids: Sequence[str],
        criteria: Sequence[Criterion],
        sustain_days: int,
        as_of: dt.date,
    ) -> GateEvaluation:
        """Judge the criteria for each tenant over the ``sustain_days`` days ending ``as_of``."""
        results: dict[str, tuple[CriterionResult, ...]] = {}
        for province_id, tenants in (await scope.by_province(session, tenant_ids)).items():
            if province_id is not None:
                await scope.enter_province(session, province_id)
            evaluation = await evaluate_gate(
                session=session,
                tenant_ids=tenants,
                criteria=criteria,
                sustain_days=sustain_days,
                as_of=as_of,
            )
            for tenant_id in tenants:
                results[tenant_id] = tuple(
                    r for r in evaluation.results if r.tenant_id == tenant_id
                )
        ordered = tuple(r for t in tenant_ids for r in results.get(t, ()))
        passed = bool(ordered) and all(r.passed for r in ordered)
        return GateEvaluation(passed=passed, results=ordered)

    async def weekly_active_members(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, WeeklyActive]:
        """Per tenant: active members in the 7 local days ending ``as_of`` and the 7 before."""
        counts: dict[str, WeeklyActive] = {}
        for province_id, tenants in (await scope.by_province(session, tenant_ids)).items():
            if province_id is not None:
                await scope.enter_province(session, province_id)
            counts |= await weekly_active_members(session=session, tenant_ids=tenants, as_of=as_of)
        return counts

    async def activation_days(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
    ) -> dict[str, list[ActivationDay]]:
        """Per tenant: members and activated members on each day from ``first`` to ``last``."""
        curves: dict[str, list[ActivationDay]] = {}
        for province_id, tenants in (await scope.by_province(session, tenant_ids)).items():
            if province_id is not None:
                await scope.enter_province(session, province_id)
            curves |= await activation_days(
                session=session, tenant_ids=tenants, first=first, last=last
            )
        return curves

    async def member_counts(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, int]:
        """Per tenant: its members at the end of ``as_of``."""
        counts = dict.fromkeys(tenant_ids, 0)
        for province_id, tenants in (await scope.by_province(session, tenant_ids)).items():
            if province_id is not None:
                await scope.enter_province(session, province_id)
            joined = await counters.members(session, tenants, as_of, as_of)
            counts |= {tenant_id: history.upto(as_of) for tenant_id, history in joined.items()}
        return counts
