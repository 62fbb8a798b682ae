"""Rollout plans: create one for a flag, read it, and apply a position to the tenants' rollouts.

A plan's position is (wave, step): every earlier wave is at its ramp's last step, the current wave
at ``ramp[step]``, later waves off. (-1, -1) is "not started".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit, flags
from rollout.errors import InvalidPlan, PlanNotFound, VersionConflict
from rollout.flag_catalogue import OFF, definition
from rollout.kpi import Criterion, Metric
from rollout.models import (
    PlanStatus,
    RolloutPlan,
    RolloutWave,
    RolloutWaveTenant,
    TenantRollout,
)
from tenants.read_model import province_tenant_count as count_province_tenants

NOT_STARTED = (-1, -1)


@dataclass(frozen=True, slots=True)
class WaveSpec:
    name: str
    tenant_ids: Sequence[str]
    ramp: Sequence[float] = (100.0,)  # percentages, rising
    earliest_start: dt.datetime | None = None
    gate: Sequence[Criterion] = ()
    sustain_days: int = 0


@dataclass(slots=True)
class PlanView:
    plan: RolloutPlan
    waves: list[RolloutWave]
    tenants: list[list[str]] = field(default_factory=list)  # per wave, sorted

    @property
    def position(self) -> tuple[int, int]:
        return self.plan.current_wave, self.plan.current_step

    def wave_of(self, tenant_id: str) -> int | None:
        return next((i for i, ts in enumerate(self.tenants) if tenant_id in ts), None)

    def basis_points(self, wave: int, position: tuple[int, int]) -> int:
        """The percentage (basis points) wave ``wave`` has at ``position``."""
        current, step = position
        if wave > current:
            return 0
        ramp = self.waves[wave].ramp
        return ramp[-1] if wave < current else ramp[step]

    def state(self) -> dict[str, Any]:
        return {
            "status": self.plan.status,
            "wave": self.plan.current_wave,
            "step": self.plan.current_step,
        }


def criteria_of(wave: RolloutWave) -> list[Criterion]:
    return [Criterion(Metric(c["metric"]), float(c["minimum"])) for c in wave.gate_criteria]


def _validate(flag_key: str, waves: Sequence[WaveSpec]) -> None:
    if definition(flag_key) is None:
        raise InvalidPlan(f"The flag {flag_key!r} is not in the registry.")
    if not waves:
        raise InvalidPlan("A plan needs at least one wave.")
    seen: set[str] = set()
    for wave in waves:
        if not wave.tenant_ids:
            raise InvalidPlan(f"The wave {wave.name!r} has no tenants.")
        if seen & set(wave.tenant_ids):
            raise InvalidPlan(f"The wave {wave.name!r} repeats a tenant of an earlier wave.")
        seen |= set(wave.tenant_ids)
        ramp = list(wave.ramp)
        if not ramp or ramp != sorted(ramp) or not 0 < ramp[0] <= ramp[-1] <= 100:
            raise InvalidPlan(f"The wave {wave.name!r} needs a rising ramp within 0–100%.")


def _validate_guardrail(drop: float | None) -> None:
    if drop is not None and not 0 <= drop < 1:
        raise InvalidPlan(
            f"The guardrail's drop is a fraction from 0 (off) to below 1, e.g. 0.3; not {drop:g}."
        )


async def create(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    waves: Sequence[WaveSpec],
    actor: str,
    now: dt.datetime,
    guardrail_drop: float | None = None,
) -> PlanView:
    """A new, not yet started plan for a catalogue flag of the province (created with the default
    off); every wave's tenants are the province's.

    ``guardrail_drop``: see :func:`set_guardrail`.
    """
    _validate(flag_key, waves)
    _validate_guardrail(guardrail_drop)
    named = [t for wave in waves for t in wave.tenant_ids]
    await flags.check_tenants(session=session, province_id=province_id, tenant_ids=named)
    await _stage_flag_off(session, province_id, flag_key, actor=actor, now=now)
    if await _id_of(session, province_id, flag_key) is not None:
        raise InvalidPlan(f"The flag {flag_key!r} already has a rollout plan.")
    plan = RolloutPlan(
        id=uuid.uuid4(),
        province_id=province_id,
        flag_key=flag_key,
        status=PlanStatus.DRAFT.value,
        current_wave=-1,
        current_step=-1,
        version=1,
        updated_at=now,
        guardrail_drop=guardrail_drop,
    )
    session.add(plan)
    await session.flush()
    await _add_waves(session, plan, waves)
    _audit_created(session, plan, waves, actor=actor, now=now)
    return await get_or_raise(session=session, province_id=province_id, flag_key=flag_key)


def _audit_created(
    session: AsyncSession,
    plan: RolloutPlan,
    waves: Sequence[WaveSpec],
    *,
    actor: str,
    now: dt.datetime,
) -> None:
    audit.record(
        session,
        actor=actor,
        action="plan.create",
        at=now,
        before=None,
        after={
            "waves": [
                {"name": w.name, "tenants": sorted(w.tenant_ids), "ramp": list(w.ramp)}
                for w in waves
            ],
            "guardrail_drop": plan.guardrail_drop,
        },
        flag_key=plan.flag_key,
        plan_id=plan.id,
        province_id=plan.province_id,
    )


async def _stage_flag_off(
    session: AsyncSession, province_id: str, flag_key: str, *, actor: str, now: dt.datetime
) -> None:
    """The flag exists and serves off by default: a plan ramps it up from nobody."""
    flag = await flags.ensure(
        session=session,
        province_id=province_id,
        key=flag_key,
        actor=actor,
        now=now,
        default_variant=OFF,
    )
    if flag.default_variant != OFF:
        await flags.update(
            session=session,
            province_id=province_id,
            key=flag_key,
            expected_version=flag.version,
            actor=actor,
            now=now,
            default_variant=OFF,
            reason="A rollout plan stages the flag from off.",
        )


async def _add_waves(session: AsyncSession, plan: RolloutPlan, waves: Sequence[WaveSpec]) -> None:
    for position, spec in enumerate(waves):
        session.add(
            RolloutWave(
                province_id=plan.province_id,
                plan_id=plan.id,
                position=position,
                name=spec.name,
                ramp=[round(p * 100) for p in spec.ramp],
                earliest_start=spec.earliest_start,
                gate_criteria=[{"metric": c.metric.value, "minimum": c.minimum} for c in spec.gate],
                gate_sustain_days=spec.sustain_days,
            )
        )
    await session.flush()  # the waves before the tenants that reference them
    for position, spec in enumerate(waves):
        for tenant_id in spec.tenant_ids:
            session.add(
                RolloutWaveTenant(
                    tenant_id=tenant_id,
                    plan_id=plan.id,
                    province_id=plan.province_id,
                    position=position,
                )
            )
    await session.flush()


async def set_guardrail(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    drop: float | None,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> PlanView:
    """Set the plan's guardrail: pause when a wave's weekly active members fall by more than
    ``drop`` (0.3 = 30%); 0 turns it off for this plan; None follows the deployment's default."""
    _validate_guardrail(drop)
    view = await get_checked(
        session=session,
        province_id=province_id,
        flag_key=flag_key,
        expected_version=expected_version,
    )
    before = {"guardrail_drop": view.plan.guardrail_drop}
    view.plan.guardrail_drop = drop
    view.plan.version += 1
    view.plan.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="plan.guardrail",
        at=now,
        before=before,
        after={"guardrail_drop": view.plan.guardrail_drop},  # as written
        reason=reason,
        flag_key=flag_key,
        plan_id=view.plan.id,
        province_id=province_id,
    )
    return view


async def get(
    *, session: AsyncSession, province_id: str, flag_key: str, for_update: bool = False
) -> PlanView | None:
    """The province's plan for the flag with its waves and their tenants, or None.

    ``for_update`` locks the plan row (PostgreSQL) so concurrent actions apply one after another.
    """
    stmt = select(RolloutPlan).where(
        RolloutPlan.province_id == province_id, RolloutPlan.flag_key == flag_key
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    plan = await session.scalar(stmt)
    if plan is None:
        return None
    waves = list(
        await session.scalars(
            select(RolloutWave).where(RolloutWave.plan_id == plan.id).order_by(RolloutWave.position)
        )
    )
    members = await session.execute(
        select(RolloutWaveTenant.position, RolloutWaveTenant.tenant_id)
        .where(RolloutWaveTenant.plan_id == plan.id)
        .order_by(RolloutWaveTenant.tenant_id)
    )
    tenants: list[list[str]] = [[] for _ in waves]
    for position, tenant_id in members:
        tenants[position].append(tenant_id)
    return PlanView(plan, waves, tenants)


async def get_or_raise(
    *, session: AsyncSession, province_id: str, flag_key: str, for_update: bool = False
) -> PlanView:
    """The province's plan for the flag, or PlanNotFound."""
    view = await get(
        session=session, province_id=province_id, flag_key=flag_key, for_update=for_update
    )
    if view is None:
        raise PlanNotFound(flag_key)
    return view


def check_version(view: PlanView, expected_version: int | None) -> None:
    """Refuse with VersionConflict when the admin acted on a version the plan has left.

    ``None`` skips the check (scripts that act on whatever the plan is now); the console always
    sends the version it displayed.
    """
    if expected_version is not None and expected_version != view.plan.version:
        raise VersionConflict(
            f"The plan of {view.plan.flag_key!r}", expected_version, view.plan.version
        )


async def get_checked(
    *, session: AsyncSession, province_id: str, flag_key: str, expected_version: int | None
) -> PlanView:
    """The plan locked for update (:func:`get_or_raise`), refused when its version moved on."""
    view = await get_or_raise(
        session=session, province_id=province_id, flag_key=flag_key, for_update=True
    )
    check_version(view, expected_version)
    return view


async def get_by_id_checked(
    *, session: AsyncSession, plan_id: uuid.UUID, expected_version: int | None
) -> PlanView:
    """The plan with this id, locked for update and version checked (its row must exist)."""
    plan = await session.get(RolloutPlan, plan_id)
    if plan is None:
        raise PlanNotFound(str(plan_id))
    return await get_checked(
        session=session,
        province_id=plan.province_id,
        flag_key=plan.flag_key,
        expected_version=expected_version,
    )


async def _id_of(session: AsyncSession, province_id: str, flag_key: str) -> uuid.UUID | None:
    return await session.scalar(
        select(RolloutPlan.id).where(
            RolloutPlan.province_id == province_id, RolloutPlan.flag_key == flag_key
        )
    )


async def id_or_raise(*, session: AsyncSession, province_id: str, flag_key: str) -> uuid.UUID:
    """The id of the province's plan for the flag, or PlanNotFound; one query."""
    plan_id = await _id_of(session, province_id, flag_key)
    if plan_id is None:
        raise PlanNotFound(flag_key)
    return plan_id


async def province_tenant_count(*, session: AsyncSession, view: PlanView) -> int:
    """How many tenants the plan's province has (the base of "more than half")."""
    return await count_province_tenants(session=session, province_id=view.plan.province_id)


async def apply(
    *, session: AsyncSession, view: PlanView, position: tuple[int, int], now: dt.datetime
) -> None:
    """Move the plan to ``position`` and set every plan tenant's rollout to match."""
    current = await _tenant_rollouts(session, view)
    for wave, tenant_ids in enumerate(view.tenants):
        basis_points = view.basis_points(wave, position)
        for tenant_id in tenant_ids:
            await _set_tenant(
                session, view, current.get(tenant_id), tenant_id, wave, basis_points, now
            )
        if wave == position[0] and view.waves[wave].started_at is None:
            view.waves[wave].started_at = now
    for later in view.waves[position[0] + 1 :]:
        later.started_at = None
    view.plan.current_wave, view.plan.current_step = position
    view.plan.version += 1
    view.plan.updated_at = now
    flag = await flags.get_or_raise(
        session=session, province_id=view.plan.province_id, key=view.plan.flag_key
    )
    flags.bump(flag, now)


async def _tenant_rollouts(session: AsyncSession, view: PlanView) -> dict[str, TenantRollout]:
    """The plan's flag's tenant rollout rows in its province, by tenant."""
    rows = await session.scalars(
        select(TenantRollout).where(
            TenantRollout.province_id == view.plan.province_id,
            TenantRollout.flag_key == view.plan.flag_key,
        )
    )
    return {row.tenant_id: row for row in rows}


async def _set_tenant(
    session: AsyncSession,
    view: PlanView,
    row: TenantRollout | None,
    tenant_id: str,
    wave: int,
    basis_points: int,
    now: dt.datetime,
) -> None:
    """The tenant's rollout row at ``basis_points`` (none at 0%); ``since`` moves only on change."""
    province_id, flag_key = view.plan.province_id, view.plan.flag_key
    if basis_points == 0:
        if row is not None:
            await session.execute(
                delete(TenantRollout).where(
                    TenantRollout.province_id == province_id,
                    TenantRollout.tenant_id == tenant_id,
                    TenantRollout.flag_key == flag_key,
                )
            )
    elif row is None:
        row = TenantRollout(province_id=province_id, tenant_id=tenant_id, flag_key=flag_key)
        row.basis_points, row.wave, row.since = basis_points, wave, now
        session.add(row)
    elif row.basis_points != basis_points:
        row.basis_points, row.wave, row.since = basis_points, wave, now
