"""KPIs (DESIGN.md's table) read from the rollups, for one tenant or a group of tenants.

A group (a wave, the province) is the union of its tenants: members belong to one tenant, so
distinct counts add up across tenants. Periods are local calendar days, ISO weeks (Monday) or
months, cut to the requested range; "members" is the tenant's members at a period's last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import counters
from adoption.calendar import month_of, next_month, week_of
from adoption.errors import InvalidPeriod
from adoption.models import AdoptionMemberDay, AdoptionMonthly

MAX_DAYS = 3 * 366


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class AdoptionPoint:
    start: dt.date
    end: dt.date  # inclusive
    members: int
    installs: int  # distinct devices installed up to ``end``
    activated_members: int  # members at ``end`` who logged in (in this tenant) by ``end``
    new_installs: int
    new_activations: int
    active_members: int  # distinct members with a login or session in the period
    uses: int  # sessions in the period
    mean_daily_active: float

    @property
    def activation_rate(self) -> float | None:
        return self.activated_members / self.members if self.members else None

    @property
    def stickiness(self) -> float | None:
        """Mean daily active / active in the period."""
        return self.mean_daily_active / self.active_members if self.active_members else None


def periods(
    start: dt.date, end: dt.date, granularity: Granularity
) -> list[tuple[dt.date, dt.date]]:
    """Calendar periods covering ``start``..``end`` (inclusive), cut to that range."""
    if end < start:
        raise InvalidPeriod(f"The period ends ({end}) before it starts ({start}).")
    if (end - start).days > MAX_DAYS:
        raise InvalidPeriod(f"A period spans at most {MAX_DAYS} days.")
    cuts: list[tuple[dt.date, dt.date]] = []
    cursor = start
    while cursor <= end:
        following = _following(cursor, granularity)
        cuts.append((cursor, min(end, following - dt.timedelta(days=1))))
        cursor = following
    return cuts


def _following(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity is Granularity.DAY:
        return day + dt.timedelta(days=1)
    if granularity is Granularity.WEEK:
        return week_of(day) + dt.timedelta(days=7)
    return next_month(month_of(day))


async def series(
    *,
    session: AsyncSession,
    tenant_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    granularity: Granularity,
) -> list[AdoptionPoint]:
    """The KPIs of ``tenant_ids`` together, one point per period."""
    by_tenant = await series_by_tenant(
        session=session, tenant_ids=tenant_ids, start=start, end=end, granularity=granularity
    )
    return combined(list(by_tenant.values()), periods(start, end, granularity))


def combined(
    series_of_tenants: Sequence[list[AdoptionPoint]], cuts: list[tuple[dt.date, dt.date]]
) -> list[AdoptionPoint]:
    """Tenants' series (from :func:`series_by_tenant`) as one group's, one point per period."""
    return [
        _sum(first, last, [points[i] for points in series_of_tenants])
        for i, (first, last) in enumerate(cuts)
    ]


def _sum(first: dt.date, last: dt.date, points: list[AdoptionPoint]) -> AdoptionPoint:
    """Members belong to one tenant, so every count (distinct ones too) adds across tenants."""
    return AdoptionPoint(
        start=first,
        end=last,
        members=sum(p.members for p in points),
        installs=sum(p.installs for p in points),
        activated_members=sum(p.activated_members for p in points),
        new_installs=sum(p.new_installs for p in points),
        new_activations=sum(p.new_activations for p in points),
        active_members=sum(p.active_members for p in points),
        uses=sum(p.uses for p in points),
        mean_daily_active=sum(p.mean_daily_active for p in points),
    )


async def series_by_tenant(
    *,
    session: AsyncSession,
    tenant_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    granularity: Granularity,
) -> dict[str, list[AdoptionPoint]]:
    """Each tenant's KPIs, one point per period; a fixed handful of queries for any number of
    tenants (each grouped by tenant)."""
    cuts = periods(start, end, granularity)
    unit = None if granularity is Granularity.DAY else granularity.value
    totals = await counters.period_totals(session, tenant_ids, start, end, unit)
    read = _Read(
        totals=totals,
        active=await _distinct_active(session, tenant_ids, cuts, granularity, totals),
        joined=await counters.members(session, tenant_ids, start, end),
        activated=await counters.activated(session, tenant_ids, end),
        before=await counters.first_days_before(session, tenant_ids, start),
        key_of=BUCKET_OF[granularity],
    )
    return {tenant_id: _tenant_series(tenant_id, cuts, read) for tenant_id in tenant_ids}


# The first day of the period a day falls in: the key of ``counters.period_totals``.
BUCKET_OF: dict[Granularity, Callable[[dt.date], dt.date]] = {
    Granularity.DAY: lambda d: d,
    Granularity.WEEK: week_of,
    Granularity.MONTH: month_of,
}


@dataclass(frozen=True, slots=True)
class _Read:
    """What the rollups answered for every tenant of a series."""

    totals: counters.ByPeriod
    active: dict[tuple[str, int], int]  # (tenant, period index) → distinct active members
    joined: dict[str, counters.Cumulative]
    activated: dict[str, counters.Cumulative]  # activated members who are members, by day
    before: dict[str, tuple[int, int]]  # activated, installed before the first period
    key_of: Callable[[dt.date], dt.date]


def _tenant_series(
    tenant_id: str, cuts: list[tuple[dt.date, dt.date]], read: _Read
) -> list[AdoptionPoint]:
    """One tenant's points; installs and activations accumulate from before the first period."""
    by_period = read.totals.get(tenant_id, {})
    joined = read.joined.get(tenant_id, counters.Cumulative(()))
    activated = read.activated.get(tenant_id, counters.Cumulative(()))
    installed = read.before.get(tenant_id, (0, 0))[1]
    points = []
    for index, (first, last) in enumerate(cuts):
        row = by_period.get(read.key_of(first), counters.NOTHING)
        installed += row.new_installs
        points.append(
            AdoptionPoint(
                start=first,
                end=last,
                members=joined.upto(last),
                installs=installed,
                activated_members=activated.upto(last),
                new_installs=row.new_installs,
                new_activations=row.new_activations,
                active_members=read.active.get((tenant_id, index), 0),
                uses=row.sessions,
                mean_daily_active=row.active / ((last - first).days + 1),
            )
        )
    return points


async def _distinct_active(
    session: AsyncSession,
    tenant_ids: Sequence[str],
    cuts: list[tuple[dt.date, dt.date]],
    granularity: Granularity,
    totals: counters.ByPeriod,
) -> dict[tuple[str, int], int]:
    """Distinct active members per (tenant, period index): exact, from the member rollups."""
    if granularity is Granularity.DAY:
        return {
            (t, i): totals.get(t, {}).get(first, counters.NOTHING).active
            for t in tenant_ids
            for i, (first, _) in enumerate(cuts)
        }
    if granularity is Granularity.WEEK:
        return await _weekly(session, tenant_ids, cuts)
    monthly = await _monthly(session, tenant_ids, cuts[0][0], cuts[-1][1])
    result: dict[tuple[str, int], int] = {}
    for index, (first, last) in enumerate(cuts):
        if first.day == 1 and last == next_month(first) - dt.timedelta(days=1):
            for tenant_id in tenant_ids:
                result[(tenant_id, index)] = monthly.get((tenant_id, first), 0)
        else:  # a month cut by the range: count its days' members
            for tenant_id, count in (
                await counters.distinct_active_by_tenant(session, tenant_ids, first, last)
            ).items():
                result[(tenant_id, index)] = count
    return result


async def _weekly(
    session: AsyncSession, tenant_ids: Sequence[str], cuts: list[tuple[dt.date, dt.date]]
) -> dict[tuple[str, int], int]:
    index_of = {week_of(first): i for i, (first, _) in enumerate(cuts)}
    query = (
        select(
            AdoptionMemberDay.tenant_id,
            AdoptionMemberDay.week,
            func.count(func.distinct(AdoptionMemberDay.member_id)),
        )
        .where(
            AdoptionMemberDay.tenant_id.in_(tenant_ids),
            AdoptionMemberDay.day.between(cuts[0][0], cuts[-1][1]),
        )
        .group_by(AdoptionMemberDay.tenant_id, AdoptionMemberDay.week)
    )
    return {(t, index_of[week]): int(n) for t, week, n in await session.execute(query)}


async def _monthly(
    session: AsyncSession, tenant_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[tuple[str, dt.date], int]:
    query = select(
        AdoptionMonthly.tenant_id, AdoptionMonthly.month, AdoptionMonthly.active_members
    ).where(
        AdoptionMonthly.tenant_id.in_(tenant_ids),
        AdoptionMonthly.month.between(month_of(start), end),
    )
    return {(t, month): int(n) for t, month, n in await session.execute(query)}
