"""Rollout admin mutations (province admins): each is one transaction with typed ``errors``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from db.broadcast import notify
from rollout import flags, notices, plans, ramps, schedule, waves
from rollout.errors import ApprovalNotFound, NoticeNotFound, RolloutError
from rollout.kpi import Criterion, KpiSource, Metric
from rollout.models import Flag, FlagState
from rollout.plans import PlanView
from rollout.snapshot import CHANNEL, FlagStore
from rollout.waves import Action, StepOutcome
from schema.context import Context
from schema.errors import ErrorCode, UserError
from schema.fields import mutation
from schema.permissions import Permission, requires
from schema.relay import canonical_uuid
from schema.rollout.access import rollout_province
from schema.rollout.types import RolloutNotice

ADMIN = requires(Permission.MANAGE_ROLLOUT, needs_tenant=False)
T = TypeVar("T")

ExpectedVersion = Annotated[
    int | None,
    strawberry.argument(
        description="The plan version the admin saw (``rollout.version``); another is refused "
        "with VERSION_CONFLICT and nothing is written. Omitted: act on the plan as it is now."
    ),
]


def _position(wave: int | None, step: int | None) -> tuple[int, int] | None:
    """``toWave``/``toStep`` as a position; either alone means the wave's first step (-1: off)."""
    if wave is None and step is None:
        return None
    wave = -1 if wave is None else wave
    return (wave, -1 if wave < 0 else (step or 0))


@strawberry.type
class RolloutStepPayload:
    applied: bool = strawberry.field(description="False while waiting for a second admin.")
    status: str | None = None
    wave: int | None = None
    step: int | None = None
    approval_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FlagPayload:
    key: str | None = None
    state: str | None = None
    version: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TenantRampPayload:
    percentage: float | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ScheduledStepPayload:
    id: strawberry.ID | None = None
    run_at: dt.datetime | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RolloutGuardrailPayload:
    guardrail_drop: float | None = strawberry.field(
        default=None, description="The plan's threshold now; null: the deployment's default."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RolloutNoticePayload:
    notice: RolloutNotice | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# The domain's enums, exposed under their GraphQL names (never a hand-kept copy).
strawberry.enum(Action, name="RolloutAction")
strawberry.enum(Metric, name="GateMetric")
strawberry.enum(FlagState, name="FlagStateInput")


@strawberry.input
class GateCriterionInput:
    metric: Metric
    minimum: float = strawberry.field(description="A ratio: 0.9 for 90%.")


@strawberry.input
class WaveInput:
    name: str
    tenants: list[str]
    ramp: list[float] = strawberry.field(default_factory=lambda: [100.0])
    earliest_start: dt.datetime | None = None
    gate: list[GateCriterionInput] = strawberry.field(default_factory=list)
    sustain_days: int = 0


@strawberry.enum(description="What a targeting rule matches on.")
class RuleAttribute(Enum):
    TENANT = "tenant"
    ROLE = "role"
    BRANCH = "branch"
    MEMBER = "member"


@strawberry.input(description="Matches when the attribute has one of the values.")
class RuleConditionInput:
    attribute: RuleAttribute
    values: list[str]


@strawberry.input(
    description="Serve ``variant`` when every condition matches; rules apply in order."
)
class FlagRuleInput:
    conditions: list[RuleConditionInput]
    variant: str


def _rules(rules: list[FlagRuleInput]) -> list[tuple[dict[str, list[str]], str]]:
    return [
        ({c.attribute.value: c.values for c in rule.conditions}, rule.variant) for rule in rules
    ]


async def _carry_out(ctx: Context, fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    """Run a rollout write in the request's province, commit it, refresh this replica's flags and
    tell the others."""
    result = await ctx.run_province(fn, province_id=rollout_province(ctx), now=ctx.now, **kwargs)
    await ctx.commit()
    key = kwargs.get("flag_key") or kwargs.get("key") or ""
    await ctx.run_province(_publish, flags=ctx.flags, key=key)
    return result


async def _publish(*, session: AsyncSession, flags: FlagStore, key: str) -> None:
    """Refresh this replica's flags and tell the others that ``key`` changed."""
    await flags.reload_from(session)
    await notify(session, CHANNEL, key)


def _step_payload(result: StepOutcome | PlanView) -> RolloutStepPayload:
    if isinstance(result, PlanView):
        view, applied, approval = result, True, None
    else:
        view, applied, approval = result.view, result.applied, result.approval
    return RolloutStepPayload(
        applied=applied,
        status=view.plan.status,
        wave=view.plan.current_wave,
        step=view.plan.current_step,
        approval_id=strawberry.ID(str(approval.id)) if approval and not applied else None,
    )


DANGLING = UserError(
    field=None,
    code=ErrorCode("INVALID_INPUT"),
    message="The change names a tenant, flag or plan that does not exist (any more).",
)


def _dangling(exc: IntegrityError) -> bool:
    """A foreign key names a row that is not there: PostgreSQL's SQLSTATE 23503, SQLite's
    message."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint failed" in str(
        orig
    )


async def attempt(
    ctx: Context, fn: Callable[..., Awaitable[T]], **kwargs: Any
) -> tuple[T | None, list[UserError]]:
    """:func:`_carry_out`; an expected error rolls the write back and becomes payload errors.

    The services refuse unknown tenants themselves; a foreign-key violation is still answered
    as ``INVALID_INPUT`` when the row vanished between their check and the write.
    """
    try:
        return await _carry_out(ctx, fn, actor=_actor(ctx), **kwargs), []
    except RolloutError as exc:
        await ctx.rollback()
        return None, [UserError.from_domain(exc)]
    except IntegrityError as exc:
        if not _dangling(exc):
            raise
        await ctx.rollback()
        return None, [DANGLING]


async def _step(
    ctx: Context, fn: Callable[..., Awaitable[StepOutcome | PlanView]], **kwargs: Any
) -> RolloutStepPayload:
    result, errors = await attempt(ctx, fn, **kwargs)
    if result is None:
        return RolloutStepPayload(applied=False, errors=errors)
    return _step_payload(result)


def _flag_payload(row: Flag | None, errors: list[UserError]) -> FlagPayload:
    if row is None:
        return FlagPayload(errors=errors)
    return FlagPayload(key=row.key, state=row.state, version=row.version)


def _actor(ctx: Context) -> str:
    assert ctx.principal is not None  # the permission ran first
    return ctx.principal.subject


def _notice_id(value: strawberry.ID) -> uuid.UUID:
    parsed = canonical_uuid(str(value))
    if parsed is None:
        raise NoticeNotFound()
    return parsed


def _kpis(ctx: Context) -> KpiSource:
    return ctx.kpis


@strawberry.type
class RolloutMutation:
    @mutation(extensions=ADMIN, description="Start a flag's plan: wave 0 at its first step.")
    async def start_rollout(
        self, info: Info[Context, None], flag: str, expected_version: ExpectedVersion = None
    ) -> RolloutStepPayload:
        return await _step(
            info.context,
            waves.step_forward,
            flag_key=flag,
            action=Action.START,
            kpis=_kpis(info.context),
            expected_version=expected_version,
        )

    @mutation(
        extensions=ADMIN,
        description="Next ramp step or wave; a failing gate needs ``overrideReason``.",
    )
    async def advance_rollout(
        self,
        info: Info[Context, None],
        flag: str,
        override_reason: str | None = None,
        expected_version: ExpectedVersion = None,
    ) -> RolloutStepPayload:
        return await _step(
            info.context,
            waves.step_forward,
            flag_key=flag,
            action=Action.ADVANCE,
            kpis=_kpis(info.context),
            override_reason=override_reason,
            expected_version=expected_version,
        )

    @mutation(extensions=ADMIN, description="Freeze the plan: no step until resumed.")
    async def pause_rollout(
        self,
        info: Info[Context, None],
        flag: str,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> RolloutStepPayload:
        return await _step(
            info.context,
            waves.pause,
            flag_key=flag,
            reason=reason,
            expected_version=expected_version,
        )

    @mutation(extensions=ADMIN)
    async def resume_rollout(
        self,
        info: Info[Context, None],
        flag: str,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> RolloutStepPayload:
        return await _step(
            info.context,
            waves.resume,
            flag_key=flag,
            reason=reason,
            expected_version=expected_version,
        )

    @mutation(
        extensions=ADMIN,
        description="Instantly back to an earlier step's state: ``toWave``/``toStep`` (one of "
        "``nextSteps``' rollbacks; -1/-1 turns every wave off), by default the previous step. "
        "Never waits for a second admin: it only narrows who has the flag.",
    )
    async def rollback_rollout(
        self,
        info: Info[Context, None],
        flag: str,
        reason: str,
        expected_version: ExpectedVersion = None,
        to_wave: int | None = None,
        to_step: int | None = None,
    ) -> RolloutStepPayload:
        return await _step(
            info.context,
            waves.rollback,
            flag_key=flag,
            reason=reason,
            expected_version=expected_version,
            to=_position(to_wave, to_step),
        )

    @mutation(extensions=ADMIN, description="A second province admin carries out a step.")
    async def approve_rollout_step(
        self,
        info: Info[Context, None],
        approval_id: strawberry.ID,
        expected_version: ExpectedVersion = None,
    ) -> RolloutStepPayload:
        parsed = canonical_uuid(str(approval_id))
        if parsed is None:
            return RolloutStepPayload(
                applied=False,
                errors=[UserError.from_domain(ApprovalNotFound())],
            )
        return await _step(
            info.context, waves.approve, approval_id=parsed, expected_version=expected_version
        )

    @mutation(
        extensions=ADMIN,
        description="Kill, archive or reactivate a flag (versioned); killing is the emergency "
        "stop: off for everyone in the province at once, audited.",
    )
    async def set_flag_state(
        self,
        info: Info[Context, None],
        flag: str,
        state: FlagState,
        expected_version: int,
        reason: str,
    ) -> FlagPayload:
        row, errors = await attempt(
            info.context,
            flags.update,
            key=flag,
            reason=reason,
            expected_version=expected_version,
            state=state,
        )
        return _flag_payload(row, errors)

    @mutation(
        extensions=requires(Permission.ADJUST_TENANT_RAMP),
        description="A tenant admin sets its own tenant's percentage, up to what its wave has.",
    )
    async def set_tenant_ramp(
        self,
        info: Info[Context, None],
        flag: str,
        percentage: float,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> TenantRampPayload:
        ctx = info.context
        _, errors = await attempt(
            ctx,
            ramps.set_tenant_ramp,
            flag_key=flag,
            tenant_id=ctx.tenant_id,
            percentage=percentage,
            reason=reason,
            expected_version=expected_version,
        )
        if errors:
            return TenantRampPayload(errors=errors)
        return TenantRampPayload(percentage=percentage)

    @mutation(extensions=ADMIN, description="Run an action on the plan at a later time, once.")
    async def schedule_rollout_step(
        self,
        info: Info[Context, None],
        flag: str,
        action: Action,
        run_at: dt.datetime,
        reason: str,
        expected_version: ExpectedVersion = None,
    ) -> ScheduledStepPayload:
        step, errors = await attempt(
            info.context,
            schedule.schedule,
            flag_key=flag,
            action=action,
            run_at=run_at,
            reason=reason,
            expected_version=expected_version,
        )
        if step is None:
            return ScheduledStepPayload(errors=errors)
        return ScheduledStepPayload(id=strawberry.ID(str(step.id)), run_at=step.run_at)

    @mutation(extensions=ADMIN, description="Replace a flag's targeting rules (versioned).")
    async def set_flag_rules(
        self,
        info: Info[Context, None],
        flag: str,
        rules: list[FlagRuleInput],
        expected_version: int,
        reason: str,
    ) -> FlagPayload:
        row, errors = await attempt(
            info.context,
            flags.set_rules,
            key=flag,
            rules=_rules(rules),
            expected_version=expected_version,
            reason=reason,
        )
        return _flag_payload(row, errors)

    @mutation(extensions=ADMIN, description="Force a tenant to a variant, or clear with null.")
    async def set_flag_override(
        self, info: Info[Context, None], flag: str, tenant: str, variant: str | None, reason: str
    ) -> FlagPayload:
        row, errors = await attempt(
            info.context,
            flags.set_override,
            key=flag,
            tenant_id=tenant,
            variant=variant,
            reason=reason,
        )
        return _flag_payload(row, errors)

    @mutation(
        extensions=ADMIN,
        description="A new, not yet started rollout plan for a flag; ``guardrailDrop`` as in "
        "``setRolloutGuardrail``.",
    )
    async def create_rollout_plan(
        self,
        info: Info[Context, None],
        flag: str,
        waves: list[WaveInput],
        guardrail_drop: float | None = None,
    ) -> RolloutStepPayload:
        specs = [
            plans.WaveSpec(
                name=w.name,
                tenant_ids=w.tenants,
                ramp=tuple(w.ramp),
                earliest_start=w.earliest_start,
                sustain_days=w.sustain_days,
                gate=tuple(Criterion(c.metric, c.minimum) for c in w.gate),
            )
            for w in waves
        ]
        return await _step(
            info.context, plans.create, flag_key=flag, waves=specs, guardrail_drop=guardrail_drop
        )

    @mutation(
        extensions=ADMIN,
        description="Pause the plan when a started wave's weekly active members fall by more "
        "than ``drop`` (0.3 = 30%); 0 turns the guardrail off for this plan; null follows the "
        "deployment's default.",
    )
    async def set_rollout_guardrail(
        self,
        info: Info[Context, None],
        flag: str,
        reason: str,
        drop: float | None = None,
        expected_version: ExpectedVersion = None,
    ) -> RolloutGuardrailPayload:
        view, errors = await attempt(
            info.context,
            plans.set_guardrail,
            flag_key=flag,
            drop=drop,
            reason=reason,
            expected_version=expected_version,
        )
        if view is None:
            return RolloutGuardrailPayload(errors=errors)
        return RolloutGuardrailPayload(guardrail_drop=view.plan.guardrail_drop)

    @mutation(extensions=ADMIN, description="Mark a rollout notice read (audited, once).")
    async def acknowledge_rollout_notice(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RolloutNoticePayload:
        ctx = info.context
        assert ctx.principal is not None  # the permission ran first
        try:
            row = await ctx.run_province(
                notices.acknowledge,
                notice_id=_notice_id(id),
                province_id=rollout_province(ctx),
                actor=_actor(ctx),
                now=ctx.now,
            )
            await ctx.commit()
        except RolloutError as exc:
            await ctx.rollback()
            return RolloutNoticePayload(errors=[UserError.from_domain(exc)])
        await ctx.run_province(notify, channel=CHANNEL, payload=row.flag_key)  # consoles refresh
        return RolloutNoticePayload(notice=RolloutNotice.from_model(row))
