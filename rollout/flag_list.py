"""The province's configured flags as admins and auditors read them: rules, overrides, plan.

A read model over the flag tables, as the writes in :mod:`rollout.flags` leave them: every query
names the province, so a flag, rule, override or plan of another province is never read. Only
flags the province has configured are listed (a row in ``flags``); the others serve their
catalogue default and have neither rules, nor overrides, nor a plan.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.flag_catalogue import FlagKey, definition, lineage
from rollout.models import Flag, FlagOverride, FlagRule, RolloutPlan, RolloutWave


@dataclass(frozen=True, slots=True)
class RuleListing:
    """A targeting rule: every attribute (sorted) must match one of its values."""

    conditions: tuple[tuple[str, tuple[str, ...]], ...]
    variant: str


@dataclass(frozen=True, slots=True)
class OverrideListing:
    tenant_id: str
    variant: str
    reason: str
    updated_by: str
    updated_by_name: str | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Where the flag's rollout plan is: -1 for a wave or step not started."""

    status: str
    wave: int
    step: int
    wave_name: str | None
    basis_points: int  # the current wave's in-tenant percentage
    version: int


@dataclass(frozen=True, slots=True)
class FlagListing:
    key: str
    description: str
    kind: str
    state: str
    version: int
    parents: tuple[str, ...]  # outermost first: each must be on for the flag to be
    variants: tuple[str, ...]
    default_variant: str
    rollout_variant: str
    rules: tuple[RuleListing, ...]
    overrides: tuple[OverrideListing, ...]  # by tenant
    plan: PlanSummary | None


async def province_flags(*, session: AsyncSession, province_id: str) -> list[FlagListing]:
    """The province's configured flags by key, each with its rules, overrides and plan."""
    where = Flag.province_id == province_id
    rows = (await session.scalars(select(Flag).where(where).order_by(Flag.key))).all()
    rules = await _rules(session, province_id)
    overrides = await _overrides(session, province_id)
    plans = await _plans(session, province_id)
    return [
        FlagListing(
            key=row.key,
            description=row.description,
            kind=row.kind,
            state=row.state,
            version=row.version,
            parents=_parents(row.key),
            variants=tuple(sorted(row.variants)),
            default_variant=row.default_variant,
            rollout_variant=row.rollout_variant,
            rules=tuple(rules.get(row.key, ())),
            overrides=tuple(overrides.get(row.key, ())),
            plan=plans.get(row.key),
        )
        for row in rows
    ]


def _parents(key: str) -> tuple[str, ...]:
    if definition(key) is None:
        return ()
    return tuple(k.value for k in lineage(FlagKey(key))[:-1])


async def _rules(session: AsyncSession, province_id: str) -> Mapping[str, list[RuleListing]]:
    stmt = (
        select(FlagRule)
        .where(FlagRule.province_id == province_id)
        .order_by(FlagRule.flag_key, FlagRule.position)
    )
    found: dict[str, list[RuleListing]] = defaultdict(list)
    for rule in await session.scalars(stmt):
        conditions = tuple(
            (attr, tuple(sorted(values))) for attr, values in sorted(rule.conditions.items())
        )
        found[rule.flag_key].append(RuleListing(conditions, rule.variant))
    return found


async def _overrides(
    session: AsyncSession, province_id: str
) -> Mapping[str, list[OverrideListing]]:
    stmt = (
        select(FlagOverride)
        .where(FlagOverride.province_id == province_id)
        .order_by(FlagOverride.flag_key, FlagOverride.tenant_id)
    )
    found: dict[str, list[OverrideListing]] = defaultdict(list)
    for o in await session.scalars(stmt):
        found[o.flag_key].append(
            OverrideListing(
                o.tenant_id, o.variant, o.reason, o.updated_by, o.updated_by_name, o.updated_at
            )
        )
    return found


async def _plans(session: AsyncSession, province_id: str) -> Mapping[str, PlanSummary]:
    plans = (
        await session.scalars(select(RolloutPlan).where(RolloutPlan.province_id == province_id))
    ).all()
    waves = await session.scalars(
        select(RolloutWave)
        .where(RolloutWave.province_id == province_id)
        .order_by(RolloutWave.plan_id, RolloutWave.position)
    )
    by_plan: dict[uuid.UUID, list[RolloutWave]] = defaultdict(list)
    for wave in waves:
        by_plan[wave.plan_id].append(wave)
    return {plan.flag_key: _summary(plan, by_plan[plan.id]) for plan in plans}


def _summary(plan: RolloutPlan, waves: Sequence[RolloutWave]) -> PlanSummary:
    wave, step = plan.current_wave, plan.current_step
    current = waves[wave] if 0 <= wave < len(waves) else None
    ramp = current.ramp if current is not None else []
    return PlanSummary(
        status=plan.status,
        wave=wave,
        step=step,
        wave_name=None if current is None else current.name,
        basis_points=ramp[step] if 0 <= step < len(ramp) else 0,
        version=plan.version,
    )
