"""A tenant admin's own ramp: lower (or restore) their tenant's percentage within the plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import audit, flags, plans
from rollout.errors import OutOfBounds
from rollout.models import TenantRollout
from rollout.status import TenantState


@dataclass(frozen=True, slots=True)
class DistrictRamp:
    """A tenant's own place in a plan: its state, its wave, and how far it may set its ramp."""

    state: TenantState
    wave_name: str | None
    ceiling_basis_points: int  # what :func:`set_tenant_ramp` accepts at most, now
    plan_version: int
    plan_status: str


async def district(
    *, session: AsyncSession, province_id: str, tenant_id: str, flag_key: str
) -> DistrictRamp | None:
    """The tenant's state in the province's plan for the flag, or None without a plan."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag_key)
    if view is None:
        return None
    wave = view.wave_of(tenant_id)
    row = await session.get(TenantRollout, (province_id, tenant_id, flag_key))
    return DistrictRamp(
        state=TenantState(
            tenant_id, wave, row.basis_points if row else 0, row.since if row else None
        ),
        wave_name=None if wave is None else view.waves[wave].name,
        ceiling_basis_points=ceiling(view, tenant_id),
        plan_version=view.plan.version,
        plan_status=view.plan.status,
    )


def ceiling(view: plans.PlanView, tenant_id: str) -> int:
    """The most a tenant may set its ramp to (basis points): what its wave has now; 0 outside."""
    wave = view.wave_of(tenant_id)
    return 0 if wave is None else view.basis_points(wave, view.position)


async def set_tenant_ramp(
    *,
    session: AsyncSession,
    province_id: str,
    flag_key: str,
    tenant_id: str,
    percentage: float,
    actor: str,
    reason: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> TenantRollout | None:
    """Set the tenant's in-tenant percentage, between 0 and what its wave has now."""
    view = await plans.get_checked(
        session=session,
        province_id=province_id,
        flag_key=flag_key,
        expected_version=expected_version,
    )
    basis_points = _basis_points_or_raise(view, tenant_id, flag_key, percentage)
    row = await session.get(TenantRollout, (province_id, tenant_id, flag_key))
    before = None if row is None else {"percentage": row.basis_points / 100}
    row = await _store(session, row, view, tenant_id, basis_points, now)
    flag = await flags.get_or_raise(session=session, province_id=province_id, key=flag_key)
    flags.bump(flag, now)
    audit.record(
        session,
        actor=actor,
        action="tenant.ramp",
        at=now,
        before=before,
        after={"percentage": basis_points / 100},
        reason=reason,
        flag_key=flag_key,
        plan_id=view.plan.id,
        tenant_id=tenant_id,
        province_id=province_id,
    )
    return row


def _basis_points_or_raise(
    view: plans.PlanView, tenant_id: str, flag_key: str, percentage: float
) -> int:
    """``percentage`` in basis points, or OutOfBounds above what the tenant's wave has now."""
    most = ceiling(view, tenant_id)
    basis_points = round(percentage * 100)
    if not 0 <= basis_points <= most:
        raise OutOfBounds(
            f"The plan allows {tenant_id} between 0% and {most / 100:g}% of "
            f"{flag_key!r} now; {percentage:g}% is outside that."
        )
    return basis_points


async def _store(
    session: AsyncSession,
    row: TenantRollout | None,
    view: plans.PlanView,
    tenant_id: str,
    basis_points: int,
    now: dt.datetime,
) -> TenantRollout | None:
    """The tenant's ramp row at ``basis_points``; at 0% it has none."""
    if basis_points == 0:
        if row is not None:
            await session.delete(row)
        return None
    if row is None:
        row = TenantRollout(
            province_id=view.plan.province_id,
            tenant_id=tenant_id,
            flag_key=view.plan.flag_key,
            basis_points=basis_points,
            wave=view.wave_of(tenant_id),
            since=now,
        )
        session.add(row)
    else:
        row.basis_points, row.since = basis_points, now
    return row
