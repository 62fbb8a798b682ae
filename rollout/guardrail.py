"""The adoption guardrail: pause a running plan when a started wave's weekly active members fall.

For every wave that has started, a check compares the wave's active members in the 7
province-local days ending yesterday with the 7 days before (sums over the wave's tenants).
When they fell by more than the plan's threshold (``rollout_plans.guardrail_drop``, else the
deployment's default; 0 is off), the plan is paused as ``system`` for the wave that fell
furthest: the audit row carries the reason and the figures go to the province admins as a notice.

- Exactly once across replicas: each plan is checked in its own transaction, which first locks
  the plan (``FOR UPDATE``; on SQLite the write lock), and only a running plan is paused: a
  replica checking at the same moment waits, then finds the plan paused and does nothing.
- Small waves are not judged: fewer than ``min_active`` active members in the earlier week.
- Once per fall: after a pause, the guardrail does not judge the waves whose fall it reported
  (the one paused for, and any other that fell) for 7 local days, while the weeks it would
  compare still hold that fall. An admin who resumes the plan is therefore not overruled by the
  same fall; from then on the earlier week is the one that tripped, so only a further fall
  pauses again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.sessions import lock_sqlite_for_writing
from rollout import gates, notices, plans, waves
from rollout.kpi import NOBODY, KpiSource, WeeklyActive
from rollout.models import NoticeKind, PlanStatus, RolloutNotice, RolloutPlan
from rollout.plans import PlanView

logger = logging.getLogger("pilotgraph.rollout")
SYSTEM = "system"
WEEK_DAYS = 7


class Outcome(StrEnum):
    PAUSED = "paused"  # the plan was paused for this wave, with a notice
    WOULD_PAUSE = "would_pause"  # a dry run: the plan would have been paused for this wave
    FELL = "fell"  # fell too, but the plan was paused for a wave that fell further
    HOLDS = "holds"
    TOO_FEW = "too_few"  # fewer than ``min_active`` active in the earlier week: not judged
    RECENTLY_PAUSED = "recently_paused"  # its fall was reported by a pause in the last 7 days
    OFF = "off"  # the plan's guardrail is off


@dataclass(frozen=True, slots=True)
class Policy:
    """The deployment's guardrail settings (``PILOTGRAPH_GUARDRAIL_*``)."""

    default_drop: float = 0.3
    min_active: int = 20

    def drop_of(self, plan: RolloutPlan) -> float:
        return self.default_drop if plan.guardrail_drop is None else plan.guardrail_drop


@dataclass(frozen=True, slots=True)
class WaveCheck:
    """One started wave of a running plan, judged."""

    flag_key: str
    wave: int
    name: str
    as_of: dt.date  # the last local day of the recent week
    drop: float  # the plan's threshold
    tenants: dict[str, WeeklyActive]
    outcome: Outcome

    @property
    def total(self) -> WeeklyActive:
        return sum(self.tenants.values(), NOBODY)

    def fall(self) -> str:
        """E.g. "wave 1 'wave 1' (kim-son, hoa-lu) fell 42.0% (1,200 → 696)"."""
        total = self.total
        return (
            f"wave {self.wave} {self.name!r} ({', '.join(self.tenants)}) fell "
            f"{-(total.change or 0.0):.1%} ({total.earlier:,} → {total.recent:,})"
        )

    def figures(self) -> dict[str, Any]:
        total = self.total
        return {
            "as_of": self.as_of.isoformat(),
            "threshold": self.drop,
            "recent": total.recent,
            "earlier": total.earlier,
            "change": None if total.change is None else round(total.change, 4),
            "tenants": {
                t: {"recent": c.recent, "earlier": c.earlier} for t, c in self.tenants.items()
            },
        }


def pause_reason(worst: WaveCheck, others: Sequence[WaveCheck]) -> str:
    """The audit reason and notice message: the wave paused for, and any other that fell."""
    reason = (
        f"Guardrail: weekly active members of {worst.fall()} in the week to "
        f"{worst.as_of.isoformat()}; threshold {worst.drop * 100:g}%."
    )
    if others:
        reason += f" Also fell: {'; '.join(c.fall() for c in others)}."
    return reason


async def check(
    *,
    session: AsyncSession,
    kpis: KpiSource,
    policy: Policy,
    now: dt.datetime,
    dry_run: bool = False,
) -> list[WaveCheck]:
    """Judge every running plan, each in its own transaction (rolled back on a dry run)."""
    running = list(
        await session.execute(
            select(RolloutPlan.province_id, RolloutPlan.flag_key)
            .where(RolloutPlan.status == PlanStatus.RUNNING.value)
            .order_by(RolloutPlan.province_id, RolloutPlan.flag_key)
        )
    )
    await session.commit()  # each plan's transaction begins with its lock
    checks: list[WaveCheck] = []
    for province_id, flag_key in running:
        checks += await check_plan(
            session=session,
            province_id=province_id,
            flag_key=flag_key,
            kpis=kpis,
            policy=policy,
            now=now,
            dry_run=dry_run,
        )
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return checks


async def check_plan(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    kpis: KpiSource,
    policy: Policy,
    now: dt.datetime,
    dry_run: bool = False,
) -> list[WaveCheck]:
    """Judge a running plan's started waves and pause it for the one that fell furthest.

    Locks the plan first (not on a dry run); the caller commits.
    """
    if not dry_run:
        await lock_sqlite_for_writing(session, RolloutPlan)
    view = await plans.get(
        session=session, province_id=province_id, flag_key=flag_key, for_update=not dry_run
    )
    if view is None or view.plan.status != PlanStatus.RUNNING.value:
        return []
    drop = policy.drop_of(view.plan)
    as_of = gates.local_day(now) - dt.timedelta(days=1)
    started = range(view.plan.current_wave + 1)
    if drop <= 0:
        return [_judged(view, w, as_of, drop, {}, Outcome.OFF) for w in started]
    counts = await kpis.weekly_active_members(
        session=session, tenant_ids=[t for w in started for t in view.tenants[w]], as_of=as_of
    )
    recent = await _recently_paused(session, view.plan, now)
    checks = [_judge(view, w, as_of, drop, counts, recent, policy.min_active) for w in started]
    return await _pause_for_worst(session, view, checks, now, dry_run)


def _judged(
    view: PlanView,
    wave: int,
    as_of: dt.date,
    drop: float,
    tenants: dict[str, WeeklyActive],
    outcome: Outcome,
) -> WaveCheck:
    return WaveCheck(view.plan.flag_key, wave, view.waves[wave].name, as_of, drop, tenants, outcome)


def _judge(
    view: PlanView,
    wave: int,
    as_of: dt.date,
    drop: float,
    counts: dict[str, WeeklyActive],
    recently_paused: set[int],
    min_active: int,
) -> WaveCheck:
    tenants = {t: counts.get(t, NOBODY) for t in view.tenants[wave]}
    total = sum(tenants.values(), NOBODY)
    if wave in recently_paused:
        outcome = Outcome.RECENTLY_PAUSED
    elif total.earlier < min_active or total.change is None:
        outcome = Outcome.TOO_FEW
    elif total.change < -drop:
        outcome = Outcome.FELL
    else:
        outcome = Outcome.HOLDS
    return _judged(view, wave, as_of, drop, tenants, outcome)


async def _recently_paused(session: AsyncSession, plan: RolloutPlan, now: dt.datetime) -> set[int]:
    """Waves whose fall paused the plan (or was reported with the one that did) on one of the
    last 7 local days, today included."""
    first_day = gates.local_day(now) - dt.timedelta(days=WEEK_DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=gates.PROVINCE_ZONE)
    rows = await session.execute(
        select(RolloutNotice.wave, RolloutNotice.figures).where(
            RolloutNotice.plan_id == plan.id,
            RolloutNotice.kind == NoticeKind.GUARDRAIL_PAUSE.value,
            RolloutNotice.created_at >= since,
        )
    )
    reported: set[int] = set()
    for wave, figures in rows:
        if wave is not None:
            reported.add(wave)
        reported.update(figures.get("also_fell", []))
    return reported


async def _pause_for_worst(
    session: AsyncSession,
    view: PlanView,
    checks: Sequence[WaveCheck],
    now: dt.datetime,
    dry_run: bool,
) -> list[WaveCheck]:
    fell = [c for c in checks if c.outcome is Outcome.FELL]
    if not fell:
        return list(checks)
    worst = min(fell, key=lambda c: c.total.change or 0.0)
    others = [c for c in fell if c is not worst]
    reason = pause_reason(worst, others)
    if dry_run:
        return [replace(c, outcome=Outcome.WOULD_PAUSE) if c is worst else c for c in checks]
    paused = await waves.pause_wave(
        session=session,
        province_id=view.plan.province_id,
        flag_key=view.plan.flag_key,
        wave=worst.wave,
        reason=reason,
        now=now,
        actor=SYSTEM,
    )
    if paused is None:  # no longer running: another check paused it first
        return list(checks)
    figures = {**worst.figures(), "also_fell": [c.wave for c in others]}
    await notices.add(
        session=session,
        plan=view.plan,
        tenant_ids=list(worst.tenants),
        kind=NoticeKind.GUARDRAIL_PAUSE,
        message=reason,
        figures=figures,
        now=now,
        wave=worst.wave,
    )
    logger.warning("rollout of %s paused: %s", view.plan.flag_key, reason)
    return [replace(c, outcome=Outcome.PAUSED) if c is worst else c for c in checks]
