"""Every plan action an admin can take, called alike; and the plan's whole written state, to prove
a refused action wrote nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout import approvals, plans, ramps, schedule, waves
from rollout.models import AuditEntry, RolloutApproval, ScheduledStep, TenantRollout
from rollout.waves import Action
from tests.rollout.plan_world import ADMIN, KEY, SECOND_ADMIN
from tests.world import NOW, YEN_MO

P = "ninh-binh"
LATER = NOW + dt.timedelta(days=1)
R = {"reason": "r"}

# Each action: its service function, its arguments, and the ids (from the world) it names.
ACTIONS: dict[str, tuple[Callable[..., Awaitable[Any]], dict[str, Any], tuple[str, ...]]] = {
    "advance": (
        waves.step_forward,
        {"flag_key": KEY, "action": Action.ADVANCE, "actor": ADMIN},
        ("kpis",),
    ),
    "pause": (waves.pause, {"flag_key": KEY, "actor": ADMIN, **R}, ()),
    "rollback": (waves.rollback, {"flag_key": KEY, "actor": ADMIN, **R}, ()),
    "rollback_to": (waves.rollback, {"flag_key": KEY, "actor": ADMIN, "to": (-1, -1), **R}, ()),
    "approve": (waves.approve, {"actor": SECOND_ADMIN}, ("approval_id",)),
    "withdraw": (approvals.withdraw, {"actor": ADMIN, **R}, ("approval_id",)),
    "reject": (approvals.reject, {"actor": SECOND_ADMIN, **R}, ("approval_id",)),
    "schedule": (
        schedule.schedule,
        {"flag_key": KEY, "action": Action.ADVANCE, "run_at": LATER, "actor": ADMIN, **R},
        (),
    ),
    "cancel": (schedule.cancel, {"actor": ADMIN, **R}, ("step_id",)),
    "guardrail": (plans.set_guardrail, {"flag_key": KEY, "drop": 0.2, "actor": ADMIN, **R}, ()),
    "ramp": (
        ramps.set_tenant_ramp,
        {"flag_key": KEY, "tenant_id": YEN_MO, "percentage": 50, "actor": ADMIN, **R},
        (),
    ),
}


async def act(name: str, session: AsyncSession, version: int | None, world: dict[str, Any]) -> Any:
    """Run the action ``name`` as if the admin saw plan ``version``; ``world`` names its ids."""
    fn, kwargs, needs = ACTIONS[name]
    named = {key: world[key] for key in needs}
    return await fn(
        session=session, province_id=P, now=NOW, expected_version=version, **kwargs, **named
    )


async def written(session: AsyncSession) -> dict[str, Any]:
    """Everything a plan action may write, as plain values."""
    session.expire_all()
    view = await plans.get_or_raise(session=session, province_id=P, flag_key=KEY)
    rollouts = await session.execute(
        select(TenantRollout.tenant_id, TenantRollout.basis_points).order_by(
            TenantRollout.tenant_id
        )
    )
    approval_rows = await session.execute(
        select(RolloutApproval.id, RolloutApproval.status).order_by(RolloutApproval.id)
    )
    steps = await session.execute(
        select(ScheduledStep.id, ScheduledStep.status).order_by(ScheduledStep.id)
    )
    return {
        "plan": (view.plan.version, view.plan.status, view.position, view.plan.guardrail_drop),
        "audit": await session.scalar(select(func.count()).select_from(AuditEntry)),
        "rollouts": list(rollouts),
        "approvals": list(approval_rows),
        "steps": list(steps),
    }
