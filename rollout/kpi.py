"""The narrow KPI interface rollout gates and guardrails read; adoption implements it.

Gates ask: "did these tenants hold these criteria on each of the last N days?". Rates are
ratios in [0, 1]. "Monthly active" here is the rolling 30 local days ending on the day asked
about (a calendar month would make every gate fail on the 1st); days are local to the province.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class Metric(StrEnum):
    ACTIVATION_RATE = "activation_rate"  # members who ever logged in / members
    MONTHLY_ACTIVE_RATE = "monthly_active_rate"  # active in the 30 days ending that day / members


@dataclass(frozen=True, slots=True)
class Criterion:
    metric: Metric
    minimum: float  # a ratio, e.g. 0.9 for "activation ≥ 90%"


@dataclass(frozen=True, slots=True)
class CriterionResult:
    tenant_id: str
    metric: Metric
    minimum: float
    current: float | None  # the value on ``as_of``; None when the tenant has no members
    days_held: int  # consecutive days, ending ``as_of``, on which the value was ≥ minimum
    passed: bool  # days_held ≥ the gate's sustain_days


@dataclass(frozen=True, slots=True)
class GateEvaluation:
    passed: bool  # every criterion passed for every tenant (vacuously false with no tenants)
    results: tuple[CriterionResult, ...]


@dataclass(frozen=True, slots=True)
class WeeklyActive:
    """Distinct members active in the 7 local days ending a day, and in the 7 days before."""

    recent: int
    earlier: int

    def __add__(self, other: WeeklyActive) -> WeeklyActive:
        return WeeklyActive(self.recent + other.recent, self.earlier + other.earlier)

    @property
    def change(self) -> float | None:
        """recent / earlier − 1 (-0.3: fell by 30%); None when the earlier week had nobody."""
        return self.recent / self.earlier - 1 if self.earlier else None


NOBODY = WeeklyActive(0, 0)


@dataclass(frozen=True, slots=True)
class ActivationDay:
    """A tenant's members and activated members on a local day (the activation curve)."""

    day: dt.date
    activated: int
    members: int


class KpiSource(Protocol):
    """What rollout needs from adoption; the gateway passes in adoption's implementation."""

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
        ...

    async def weekly_active_members(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, WeeklyActive]:
        """Per tenant: active members in the 7 local days ending ``as_of`` and the 7 before.

        The guardrail sums them over a wave and pauses it when the change falls below minus a
        configured fraction.
        """
        ...

    async def activation_days(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], first: dt.date, last: dt.date
    ) -> dict[str, list[ActivationDay]]:
        """Per tenant: members and activated members on each day from ``first`` to ``last``.

        The wave forecast fits its diffusion model to these curves.
        """
        ...

    async def member_counts(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, int]:
        """Per tenant: its members at the end of ``as_of`` (what a step's impact counts)."""
        ...
