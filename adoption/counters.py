"""Reads of the per-day counters: sums per tenant and period, first days before a range,
members by join day, and distinct members active in a range. The dashboard reads only these day
rows (a few thousand per province and year, whatever the number of events), summed by the
database per period.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.models import (
    AdoptionActivatedCount,
    AdoptionDaily,
    AdoptionMemberCount,
    AdoptionMemberDay,
)
from db.dialect import period_start


@dataclass(frozen=True, slots=True)
class Totals:
    """``adoption_daily`` summed over a period (one day for a daily series)."""

    active: int  # the sum of each day's distinct active members
    sessions: int
    new_activations: int
    new_installs: int


NOTHING = Totals(0, 0, 0, 0)
ByPeriod = dict[str, dict[dt.date, Totals]]  # tenant → first day of the period → totals


async def period_totals(
    session: AsyncSession,
    tenant_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    unit: str | None,
) -> ByPeriod:
    """Per tenant and period from ``start`` to ``end``: ``unit`` None for days, or "week" /
    "month" (keyed by the Monday / the 1st, which may fall before ``start``)."""
    daily = AdoptionDaily
    key = daily.day if unit is None else period_start(session, daily.day, unit)
    query = (
        select(
            daily.tenant_id,
            key,
            func.sum(daily.active_members),
            func.sum(daily.sessions),
            func.sum(daily.new_activations),
            func.sum(daily.new_installs),
        )
        .where(daily.tenant_id.in_(tenant_ids), daily.day.between(start, end))
        .group_by(daily.tenant_id, key)
    )
    result: ByPeriod = defaultdict(dict)
    for tenant_id, first, *sums in await session.execute(query):
        result[tenant_id][first] = Totals(*(int(s or 0) for s in sums))
    return result


async def first_days_before(
    session: AsyncSession, tenant_ids: Sequence[str], start: dt.date
) -> dict[str, tuple[int, int]]:
    """Per tenant: members activated and devices installed before ``start``."""
    daily = AdoptionDaily
    query = (
        select(daily.tenant_id, func.sum(daily.new_activations), func.sum(daily.new_installs))
        .where(daily.tenant_id.in_(tenant_ids), daily.day < start)
        .group_by(daily.tenant_id)
    )
    return {t: (int(a or 0), int(i or 0)) for t, a, i in await session.execute(query)}


class Cumulative:
    """Counts by date, summed up to a date."""

    def __init__(self, histogram: Sequence[tuple[dt.date, int]]) -> None:
        self.days = [day for day, _ in histogram]
        self.totals: list[int] = []
        running = 0
        for _, count in histogram:
            running += count
            self.totals.append(running)

    def upto(self, day: dt.date) -> int:
        index = bisect.bisect_right(self.days, day)
        return self.totals[index - 1] if index else 0


async def members(
    session: AsyncSession, tenant_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, Cumulative]:
    """Per tenant, members at each day: the deltas before ``start`` summed, then the days to
    ``end`` (``adoption_member_counts``, kept from ``member_memberships`` by triggers)."""
    counts = AdoptionMemberCount
    before = (
        select(counts.tenant_id, func.sum(counts.members))
        .where(counts.tenant_id.in_(tenant_ids), counts.joined_on < start)
        .group_by(counts.tenant_id)
    )
    rows: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    eve = start - dt.timedelta(days=1)
    for tenant_id, total in await session.execute(before):
        rows[tenant_id].append((eve, int(total or 0)))
    in_range = (
        select(counts.tenant_id, counts.joined_on, counts.members)
        .where(counts.tenant_id.in_(tenant_ids), counts.joined_on.between(start, end))
        .order_by(counts.tenant_id, counts.joined_on)
    )
    for tenant_id, day, count in await session.execute(in_range):
        rows[tenant_id].append((day, int(count)))
    return {tenant_id: Cumulative(histogram) for tenant_id, histogram in rows.items()}


async def activated(
    session: AsyncSession, tenant_ids: Sequence[str], end: dt.date
) -> dict[str, Cumulative]:
    """Per tenant, activated members who are members at each day up to ``end``: a member
    activated in the tenant counts from the later of first login and stay start to the stay's
    last day, so activated members never exceed members (``adoption_activated_counts``, kept
    from ``adoption_activations`` and ``member_memberships`` by triggers)."""
    counts = AdoptionActivatedCount
    query = (
        select(counts.tenant_id, counts.day, counts.members)
        .where(counts.tenant_id.in_(tenant_ids), counts.day <= end)
        .order_by(counts.tenant_id, counts.day)
    )
    rows: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for tenant_id, day, count in await session.execute(query):
        rows[tenant_id].append((day, int(count)))
    return {tenant_id: Cumulative(histogram) for tenant_id, histogram in rows.items()}


async def distinct_active_by_tenant(
    session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
) -> dict[str, int]:
    """Per tenant: distinct members active on any local day from ``first`` to ``last``."""
    query = (
        select(AdoptionMemberDay.tenant_id, func.count(func.distinct(AdoptionMemberDay.member_id)))
        .where(
            AdoptionMemberDay.tenant_id.in_(tenant_ids), AdoptionMemberDay.day.between(first, last)
        )
        .group_by(AdoptionMemberDay.tenant_id)
    )
    return {tenant_id: int(count) for tenant_id, count in await session.execute(query)}
