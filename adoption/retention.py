"""Retention by activation month: the share of a month's newly activated members active k
months later (k = 0 is the activation month itself)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.calendar import add_months, month_of, next_month
from adoption.models import AdoptionActivation, AdoptionMemberMonth


@dataclass(frozen=True, slots=True)
class Cohort:
    month: dt.date  # first day of the activation month
    activated: int
    active: tuple[int, ...]  # active[k]: cohort members active k months later

    @property
    def rates(self) -> tuple[float, ...]:
        return tuple(count / self.activated for count in self.active)


def _months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def active_query(
    tenant_ids: Sequence[str], first: dt.date, current: dt.date
) -> Select[dt.date, dt.date, int]:
    """Per activation day (from ``first`` to ``current``) and month from ``first`` on: how many
    of the day's newly activated members were active that month.

    Each activation finds its member-months through ``ix_adoption_member_months_member``
    (tenant, member, month), so even a nested loop planned without statistics reads a few rows
    per member, not the tenant's every member-month.
    """
    return (
        select(AdoptionActivation.activated_on, AdoptionMemberMonth.month, func.count())
        .join(
            AdoptionMemberMonth,
            (AdoptionMemberMonth.tenant_id == AdoptionActivation.tenant_id)
            & (AdoptionMemberMonth.member_id == AdoptionActivation.member_id),
        )
        .where(
            AdoptionActivation.tenant_id.in_(tenant_ids),
            AdoptionActivation.activated_on >= first,
            AdoptionActivation.activated_on < next_month(current),
            # One-sided: the primary key (tenant, month, member) must not look as selective
            # as (tenant, member, month) to a planner without statistics.
            AdoptionMemberMonth.month >= first,
        )
        .group_by(AdoptionActivation.activated_on, AdoptionMemberMonth.month)
    )


async def cohorts(
    *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date, months: int = 12
) -> list[Cohort]:
    """The cohorts of the last ``months`` activation months up to ``as_of``, oldest first."""
    current = month_of(as_of)
    first = add_months(current, 1 - months)
    # Only the requested cohorts and the months since then are read, not the whole history.
    cohort = (
        AdoptionActivation.tenant_id.in_(tenant_ids),
        AdoptionActivation.activated_on >= first,
        AdoptionActivation.activated_on < next_month(current),
    )
    sizes: Counter[dt.date] = Counter()
    sized = select(AdoptionActivation.activated_on, func.count()).where(*cohort)
    for day, count in await session.execute(sized.group_by(AdoptionActivation.activated_on)):
        sizes[month_of(day)] += int(count)
    active: Counter[tuple[dt.date, int]] = Counter()
    for day, month, count in await session.execute(active_query(tenant_ids, first, current)):
        offset = _months_between(month_of(day), month)
        if offset >= 0 and month <= current:
            active[(month_of(day), offset)] += int(count)
    return [
        Cohort(
            month=m,
            activated=sizes[m],
            active=tuple(active[(m, k)] for k in range(_months_between(m, current) + 1)),
        )
        for m in sorted(sizes)
    ]
