"""Reads of member development: module-level async functions over an explicit session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from member_development.models import Candidate, Stage, TenantRecord, YearPlan

RULE_SHARE = Decimal("0.03")  # Resolution 21-NQ/TW: admit at least 3% of members a year


@dataclass(frozen=True, slots=True)
class Figures:
    """One committee's (or the province's) year: plan, admitted, and what follows from them."""

    year: int
    members_at_start: int
    plan: int
    admitted: int
    religious_believers: int

    @property
    def achievement_rate(self) -> Decimal:
        """Admitted as a percentage of plan, two decimals (2,360 / 2,253 → 104.75)."""
        if self.plan == 0:
            return Decimal(0)
        rate = Decimal(self.admitted) * 100 / Decimal(self.plan)
        return rate.quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def meets_three_percent_rule(self) -> bool:
        return Decimal(self.admitted) >= RULE_SHARE * self.members_at_start


@dataclass(frozen=True, slots=True)
class ClassProgress:
    name: str
    enrolled: int
    completed: int


def default_plan(members_at_start: int) -> int:
    """3% of the members at the start of the year, rounded half up."""
    return int((RULE_SHARE * members_at_start).quantize(Decimal(1), ROUND_HALF_UP))


async def get_tenant(*, session: AsyncSession, tenant_id: str) -> TenantRecord | None:
    """The committee, or None."""
    return await session.get(TenantRecord, tenant_id)


async def figures(*, session: AsyncSession, tenant_id: str, year: int) -> Figures | None:
    """The committee's figures for ``year``; None when it has no plan that year."""
    plan = await session.get(YearPlan, (tenant_id, year))
    if plan is None:
        return None
    admitted, believers = await _admitted(session, [tenant_id], year)
    return Figures(
        year=year,
        members_at_start=plan.members_at_start,
        plan=plan.planned if plan.planned is not None else default_plan(plan.members_at_start),
        admitted=admitted,
        religious_believers=believers,
    )


async def province_figures(
    *, session: AsyncSession, province_id: str, year: int
) -> tuple[Figures, list[tuple[str, Figures]]] | None:
    """The province's totals and each committee's figures; None without any plan."""
    slugs = (
        await session.scalars(
            select(TenantRecord.slug)
            .where(TenantRecord.province_id == province_id)
            .order_by(TenantRecord.slug)
        )
    ).all()
    rows = [(slug, await figures(session=session, tenant_id=slug, year=year)) for slug in slugs]
    each = [(slug, found) for slug, found in rows if found is not None]
    if not each:
        return None
    total = Figures(
        year=year,
        members_at_start=sum(f.members_at_start for _, f in each),
        plan=sum(f.plan for _, f in each),
        admitted=sum(f.admitted for _, f in each),
        religious_believers=sum(f.religious_believers for _, f in each),
    )
    return total, each


async def _admitted(session: AsyncSession, tenant_ids: list[str], year: int) -> tuple[int, int]:
    query = select(
        func.count(), func.count().filter(Candidate.is_religious_believer.is_(True))
    ).where(
        Candidate.tenant_id.in_(tenant_ids),
        Candidate.year == year,
        Candidate.stage == Stage.ADMITTED.value,
    )
    admitted, believers = (await session.execute(query)).one()
    return int(admitted), int(believers)


async def candidates(
    *, session: AsyncSession, tenant_id: str, year: int, stage: Stage | None, first: int
) -> tuple[Sequence[Candidate], int]:
    """The committee's candidates of ``year`` (in ``stage``), by name, and how many in all."""
    where = [Candidate.tenant_id == tenant_id, Candidate.year == year]
    if stage is not None:
        where.append(Candidate.stage == stage.value)
    total = await session.scalar(select(func.count()).select_from(Candidate).where(*where))
    rows = await session.scalars(
        select(Candidate).where(*where).order_by(Candidate.full_name, Candidate.id).limit(first)
    )
    return rows.all(), int(total or 0)


async def supplementary_classes(
    *, session: AsyncSession, tenant_id: str, year: int
) -> list[ClassProgress]:
    """Supplementary-education classes of the year's candidates: enrolled and completed."""
    query = (
        select(
            Candidate.supplementary_class,
            func.count(),
            func.count().filter(Candidate.class_completed.is_(True)),
        )
        .where(
            Candidate.tenant_id == tenant_id,
            Candidate.year == year,
            Candidate.supplementary_class.is_not(None),
        )
        .group_by(Candidate.supplementary_class)
        .order_by(Candidate.supplementary_class)
    )
    return [
        ClassProgress(name=str(name), enrolled=int(enrolled), completed=int(done))
        for name, enrolled, done in (await session.execute(query)).all()
    ]
