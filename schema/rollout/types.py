"""GraphQL types of flags and rollouts."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import cast

import strawberry
from strawberry.types import Info

from rollout.audit import Position
from rollout.evaluation import Evaluation, EvaluationContext, Snapshot, evaluate
from rollout.flag_catalogue import CATALOGUE
from rollout.kpi import CriterionResult, GateEvaluation
from rollout.models import AuditEntry, RolloutApproval, ScheduledStep
from rollout.models import RolloutNotice as NoticeRow
from rollout.next_steps import StepOption
from rollout.plans import PlanView
from rollout.ramps import DistrictRamp
from rollout.status import RolloutView, TenantState
from schema.context import Context
from schema.fields import field
from schema.rollout import audit_cursor
from schema.rollout.forecast import RolloutForecast, resolve_forecast
from schema.rollout.people import author_name, member_name


@strawberry.enum(description="OpenFeature resolution reasons.")
class FlagReason(Enum):
    STATIC = "STATIC"
    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    DEFAULT = "DEFAULT"
    ERROR = "ERROR"
    STALE = strawberry.enum_value(
        "STALE",
        description="The fallback: an attribute a rule needs (the member's branch) could not be "
        "read, so rules on it did not match.",
    )


@strawberry.type(description="A flag as evaluated for the signed-in member.")
class FeatureEvaluation:
    key: str
    enabled: bool
    variant: str | None
    reason: FlagReason

    @classmethod
    def from_evaluation(cls, result: Evaluation) -> FeatureEvaluation:
        return cls(
            key=result.key,
            enabled=result.enabled,
            variant=result.variant,
            reason=FlagReason.STALE if result.stale else FlagReason(result.reason.value),
        )


def evaluate_all(snapshot: Snapshot, who: EvaluationContext) -> list[FeatureEvaluation]:
    """Every product flag for ``who``, in catalogue order."""
    return [
        FeatureEvaluation.from_evaluation(evaluate(snapshot, key.value, who)) for key in CATALOGUE
    ]


@strawberry.type
class GateCriterionResult:
    tenant: str
    metric: str
    minimum: float
    current: float | None
    days_held: int
    passed: bool

    @classmethod
    def from_result(cls, r: CriterionResult) -> GateCriterionResult:
        return cls(
            tenant=r.tenant_id,
            metric=r.metric.value,
            minimum=r.minimum,
            current=r.current,
            days_held=r.days_held,
            passed=r.passed,
        )


@strawberry.type(description="A wave's gate: criteria the earlier waves must hold, and now.")
class GateState:
    passed: bool
    sustain_days: int
    results: list[GateCriterionResult]


@strawberry.type
class WaveState:
    position: int
    name: str
    tenants: list[str]
    ramp: list[float] = strawberry.field(description="In-tenant percentages, step by step.")
    earliest_start: dt.datetime | None
    started_at: dt.datetime | None
    gate: GateState | None


@strawberry.type(description="One tenant's state in a rollout.")
class TenantRolloutState:
    tenant: str
    wave: int | None
    percentage: float
    since: dt.datetime | None
    state: str = strawberry.field(description="on, partial or off.")

    @classmethod
    def from_state(cls, tenant: TenantState) -> TenantRolloutState:
        return cls(
            tenant=tenant.tenant_id,
            wave=tenant.wave,
            percentage=tenant.basis_points / 100,
            since=tenant.since,
            state=tenant.state,
        )


@strawberry.type(description="A tenant admin's own district in a rollout, and its ramp's bounds.")
class DistrictRollout:
    flag: str
    tenant: str
    wave: int | None = strawberry.field(description="Null: the district is in no wave.")
    wave_name: str | None
    percentage: float
    since: dt.datetime | None
    state: str = strawberry.field(description="on, partial or off.")
    maximum: float = strawberry.field(
        description="The most setTenantRamp accepts now: what the district's wave has (0 "
        "outside the plan's waves so far)."
    )
    version: int = strawberry.field(
        description="The plan's version: setTenantRamp's expectedVersion."
    )
    status: str = strawberry.field(description="The plan's status.")

    @classmethod
    def from_ramp(cls, flag: str, ramp: DistrictRamp) -> DistrictRollout:
        tenant = ramp.state
        return cls(
            flag=flag,
            tenant=tenant.tenant_id,
            wave=tenant.wave,
            wave_name=ramp.wave_name,
            percentage=tenant.basis_points / 100,
            since=tenant.since,
            state=tenant.state,
            maximum=ramp.ceiling_basis_points / 100,
            version=ramp.plan_version,
            status=ramp.plan_status,
        )


@strawberry.type
class RolloutState:
    flag: str
    status: str
    wave: int
    step: int
    version: int
    flag_version: int
    flag_state: str = strawberry.field(
        description="active, killed (off everywhere whatever the plan: the emergency stop) or "
        "archived."
    )
    guardrail_drop: float | None = strawberry.field(
        description="Pause when a started wave's weekly active members fall by more than this "
        "fraction (0.3 = 30%); 0: off for this plan; null: the deployment's default."
    )
    guardrail_effective_drop: float = strawberry.field(
        description="The threshold in force: the plan's own, else the deployment's default "
        "(0: off)."
    )
    tenants: list[TenantRolloutState]
    waves: list[WaveState]
    pending_approvals: list[PendingApproval] = strawberry.field(
        description="Steps waiting for a second province admin's approval, oldest first."
    )
    scheduled_steps: list[ScheduledRolloutStep] = strawberry.field(
        description="Steps scheduled and not yet run, soonest first."
    )
    forecast: RolloutForecast | None = strawberry.field(
        resolver=resolve_forecast,
        description="For a running plan, when each next wave's gate thresholds will be met "
        "(a Bass diffusion model fitted to the activation of the tenants already on).",
    )
    next_steps: list[RolloutStepOption] = strawberry.field(
        description="What an admin may do now: the forward step (start or advance) when the "
        "plan's status allows one, then every earlier step it may roll back to, nearest first; "
        "each with its impact and whether a second admin must approve it."
    )
    time_zone: str = strawberry.field(
        description="The province's IANA time zone: schedule times are read and typed in it."
    )

    @classmethod
    def from_view(cls, found: RolloutView) -> RolloutState:
        report, plan = found.report, found.report.view.plan
        return cls(
            flag=found.flag_key,
            status=plan.status,
            wave=plan.current_wave,
            step=plan.current_step,
            version=plan.version,
            flag_version=report.flag_version,
            flag_state=report.flag_state,
            guardrail_drop=plan.guardrail_drop,
            guardrail_effective_drop=found.guardrail_effective_drop,
            tenants=[TenantRolloutState.from_state(t) for t in report.tenants],
            waves=[
                wave_state(report.view, i, report.gates[i]) for i in range(len(report.view.waves))
            ],
            pending_approvals=[
                PendingApproval.from_model(a, found.requested[a.id])
                for a in found.pending_approvals
            ],
            scheduled_steps=[ScheduledRolloutStep.from_model(s) for s in found.scheduled_steps],
            next_steps=[RolloutStepOption.from_option(o) for o in found.next_steps],
            time_zone=found.timezone,
        )


@strawberry.type(description="One tenant's percentage before and after a step.")
class RolloutTenantChange:
    tenant: str
    before: float
    after: float


@strawberry.type(description="A step an admin may take now, and what it changes.")
class RolloutStepOption:
    action: str = strawberry.field(description="start, advance or rollback.")
    wave: int = strawberry.field(description="The position it leads to (-1: nothing on).")
    step: int
    tenants: list[RolloutTenantChange] = strawberry.field(
        description="The tenants whose percentage changes."
    )
    tenant_count: int
    members: int = strawberry.field(
        description="Members who gain the flag (lose it, rolling back), by each tenant's share."
    )
    needs_second_approver: bool = strawberry.field(
        description="True: the step waits for a second province admin's approval."
    )

    @classmethod
    def from_option(cls, o: StepOption) -> RolloutStepOption:
        return cls(
            action=o.action.value,
            wave=o.wave,
            step=o.step,
            tenants=[
                RolloutTenantChange(tenant=c.tenant_id, before=c.before / 100, after=c.after / 100)
                for c in o.changes
            ],
            tenant_count=len(o.changes),
            members=o.members,
            needs_second_approver=o.needs_approval,
        )


@strawberry.type(description="A step a province admin asked for, waiting for a second admin.")
class PendingApproval:
    id: strawberry.ID = strawberry.field(description="Pass it to approveRolloutStep.")
    action: str
    requested_by: str = strawberry.field(description="The subject of the admin who asked.")
    requested_by_name: str | None = author_name("The requester")
    requested_at: dt.datetime
    reason: str
    request: strawberry.scalars.JSON = strawberry.field(
        description="The step asked for: target wave and step, and any gate override reason."
    )
    step: RolloutStepOption = strawberry.field(
        description="What the step would change if approved now."
    )

    @classmethod
    def from_model(cls, a: RolloutApproval, step: StepOption) -> PendingApproval:
        return cls(
            step=RolloutStepOption.from_option(step),
            id=strawberry.ID(str(a.id)),
            action=a.action,
            requested_by=a.requested_by,
            requested_by_name=a.requested_by_name,
            requested_at=a.requested_at,
            reason=a.reason,
            request=cast(strawberry.scalars.JSON, a.request),
        )


@strawberry.type(description="A rollout step scheduled to run once at a given time.")
class ScheduledRolloutStep:
    id: strawberry.ID
    action: str
    run_at: dt.datetime
    requested_by: str = strawberry.field(description="The subject of the admin who scheduled it.")
    requested_by_name: str | None = author_name("The scheduler")
    reason: str

    @classmethod
    def from_model(cls, s: ScheduledStep) -> ScheduledRolloutStep:
        return cls(
            id=strawberry.ID(str(s.id)),
            action=s.action,
            run_at=s.run_at,
            requested_by=s.requested_by,
            requested_by_name=s.requested_by_name,
            reason=s.reason,
        )


def wave_state(view: PlanView, position: int, gate: GateEvaluation | None) -> WaveState:
    wave = view.waves[position]
    return WaveState(
        position=position,
        name=wave.name,
        tenants=view.tenants[position],
        ramp=[bp / 100 for bp in wave.ramp],
        earliest_start=wave.earliest_start,
        started_at=wave.started_at,
        gate=None
        if gate is None
        else GateState(
            passed=gate.passed,
            sustain_days=wave.gate_sustain_days,
            results=[GateCriterionResult.from_result(r) for r in gate.results],
        ),
    )


@strawberry.type(description="One audited rollout change: who, when, what (before, after), why.")
class AuditRecord:
    at: dt.datetime
    actor: str = strawberry.field(description="The subject of the verified token that acted.")
    actor_name: str | None = strawberry.field(
        description="The actor's display name when they acted (the token's name claim), kept "
        "with the row; null when the token carried none (show the subject then)."
    )
    cursor: str = strawberry.field(
        description="Pass as rolloutAudit's `after` to read the rows after this one."
    )
    action: str
    flag: str | None
    tenant: str | None
    before: strawberry.scalars.JSON | None
    after: strawberry.scalars.JSON | None
    reason: str

    @field(
        description="When actorName is null: the actor's full name from the member directory, "
        "if the subject is a member of the row's tenant whose members you may read; else null "
        "(show the subject then)."
    )
    async def actor_member_name(self, info: Info[Context, None]) -> str | None:
        if self.actor_name is not None or self.tenant is None:
            return None
        return await member_name(info.context, self.tenant, self.actor)

    @classmethod
    def from_entry(cls, r: AuditEntry) -> AuditRecord:
        return cls(
            at=r.at,
            actor=r.actor,
            actor_name=r.actor_name,
            cursor=audit_cursor.encode(Position(at=r.at, id=r.id)),
            action=r.action,
            flag=r.flag_key,
            tenant=r.tenant_id,
            before=cast(strawberry.scalars.JSON, r.before),
            after=cast(strawberry.scalars.JSON, r.after),
            reason=r.reason,
        )


@strawberry.enum(description="What a rollout notice is about.")
class RolloutNoticeKind(Enum):
    GUARDRAIL_PAUSE = "guardrail_pause"


@strawberry.type(description="A notice to the province admins, e.g. the guardrail paused a plan.")
class RolloutNotice:
    id: strawberry.ID
    kind: RolloutNoticeKind
    flag: str
    province: str
    wave: int | None
    message: str
    figures: strawberry.scalars.JSON = strawberry.field(
        description="The numbers behind the message, e.g. each tenant's weekly active members."
    )
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledged_by_name: str | None = author_name("The acknowledger")

    @classmethod
    def from_model(cls, n: NoticeRow) -> RolloutNotice:
        return cls(
            id=strawberry.ID(str(n.id)),
            kind=RolloutNoticeKind(n.kind),
            flag=n.flag_key,
            province=n.province_id,
            wave=n.wave,
            message=n.message,
            figures=cast(strawberry.scalars.JSON, n.figures),
            created_at=n.created_at,
            acknowledged_at=n.acknowledged_at,
            acknowledged_by=n.acknowledged_by,
            acknowledged_by_name=n.acknowledged_by_name,
        )
