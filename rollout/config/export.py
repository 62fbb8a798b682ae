"""A province's rollout configuration as plain data (what ``pilotgraph rollout export`` writes).

Flags in key order; within a flag its description, default, state, rules in order, overrides by
tenant, and its plan's definition (waves, ramps in percent, gates, guardrail) — never state
(versions, the plan's position, who changed what: that is the audit's).
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import plans
from rollout.models import Flag, FlagOverride, FlagRule, RolloutWave


def percent(basis_points: int) -> float | int:
    """Basis points as the percentage a file writes: 25, 12.5."""
    value = basis_points / 100
    return int(value) if value.is_integer() else value


def _wave(wave: RolloutWave, tenants: list[str]) -> dict[str, Any]:
    return {
        "name": wave.name,
        "tenants": sorted(tenants),
        "ramp": [percent(bp) for bp in wave.ramp],
        "earliest_start": None if wave.earliest_start is None else wave.earliest_start.isoformat(),
        "gate": [{"metric": c["metric"], "minimum": c["minimum"]} for c in wave.gate_criteria],
        "sustain_days": wave.gate_sustain_days,
    }


async def plan_of(
    *, session: AsyncSession, province_id: str, flag_key: str
) -> dict[str, Any] | None:
    """The definition of the flag's plan (waves and guardrail), or None."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag_key)
    if view is None:
        return None
    return {
        "guardrail_drop": view.plan.guardrail_drop,
        "waves": [_wave(w, view.tenants[i]) for i, w in enumerate(view.waves)],
    }


async def rules_of(*, session: AsyncSession, province_id: str, flag_key: str) -> list[Any]:
    """The flag's rules in order: ``{"when": {attribute: values}, "serve": variant}``."""
    mine = (FlagRule.province_id == province_id, FlagRule.flag_key == flag_key)
    rules = await session.scalars(select(FlagRule).where(*mine).order_by(FlagRule.position))
    return [
        {"when": {a: sorted(v) for a, v in sorted(r.conditions.items())}, "serve": r.variant}
        for r in rules
    ]


async def overrides_of(
    *, session: AsyncSession, province_id: str, flag_key: str
) -> dict[str, dict[str, str]]:
    """The flag's overrides by tenant: ``{"variant", "reason"}``."""
    rows = await session.scalars(
        select(FlagOverride)
        .where(FlagOverride.province_id == province_id, FlagOverride.flag_key == flag_key)
        .order_by(FlagOverride.tenant_id)
    )
    return {o.tenant_id: {"variant": o.variant, "reason": o.reason} for o in rows}


async def _flag(session: AsyncSession, flag: Flag) -> dict[str, Any]:
    province_id, key = flag.province_id, flag.key
    return {
        "description": flag.description,
        "default": flag.default_variant,
        "state": flag.state,
        "rules": await rules_of(session=session, province_id=province_id, flag_key=key),
        "overrides": await overrides_of(session=session, province_id=province_id, flag_key=key),
        "plan": await plan_of(session=session, province_id=province_id, flag_key=key),
    }


async def export(*, session: AsyncSession, province_id: str) -> dict[str, Any]:
    """The province's configuration: every configured flag with its rules, overrides and plan."""
    rows = (
        await session.scalars(
            select(Flag).where(Flag.province_id == province_id).order_by(Flag.key)
        )
    ).all()
    return {
        "province": province_id,
        "flags": {flag.key: await _flag(session, flag) for flag in rows},
    }


def to_yaml(data: dict[str, Any]) -> str:
    """The configuration as YAML, in a stable order (so a diff in git shows what changed)."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
