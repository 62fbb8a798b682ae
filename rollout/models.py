"""Rollout rows: flags and their targeting, plans and waves, approvals, schedule, audit, notices.

These are province-level configuration, not tenant-owned data: no row-level security. Every row
belongs to one province (``province_id``) and its keys lead with it: ``handbook`` in one province
and ``handbook`` in another are two flags with their own targeting, plan, audit and notices.
Rows that are about one tenant also carry ``tenant_id`` (a tenant of that province).
Percentages are stored in basis points (0..10000, 0.01% steps), the unit of the bucketing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UtcDateTime


class FlagKind(StrEnum):
    BOOLEAN = "boolean"
    STRING = "string"


class FlagState(StrEnum):
    ACTIVE = "active"
    KILLED = "killed"
    ARCHIVED = "archived"


class PlanStatus(StrEnum):
    DRAFT = "draft"  # created, no wave started yet
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"  # the last wave is at its last ramp step


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # approved and carried out
    INVALIDATED = "invalidated"  # the plan moved away from where the step was asked from
    WITHDRAWN = "withdrawn"  # the requester took it back
    REJECTED = "rejected"  # a second admin refused it


class StepStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"  # an admin cancelled it before it ran


class NoticeKind(StrEnum):
    GUARDRAIL_PAUSE = "guardrail_pause"  # the adoption guardrail paused a plan


def _province() -> Mapped[str]:
    return mapped_column(ForeignKey("provinces.id"), primary_key=True)


def _province_column() -> Mapped[str]:
    return mapped_column(ForeignKey("provinces.id"))


def _flag_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["province_id", "flag_key"], ["flags.province_id", "flags.key"], ondelete="CASCADE"
    )


class Flag(Base):
    __tablename__ = "flags"

    province_id: Mapped[str] = _province()
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=FlagKind.BOOLEAN.value)
    # variant name → value; a boolean flag has exactly {"on": true, "off": false}
    variants: Mapped[dict[str, Any]] = mapped_column(JSON)
    default_variant: Mapped[str] = mapped_column(String(63))
    # the variant a percentage rollout hands out to members inside the bucket
    rollout_variant: Mapped[str] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(16), default=FlagState.ACTIVE.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class FlagRule(Base):
    """A targeting rule: when every attribute matches one of its values, serve ``variant``."""

    __tablename__ = "flag_rules"
    __table_args__ = (_flag_fk(),)

    province_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    flag_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # attribute (tenant, role, branch, member) → accepted values
    conditions: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    variant: Mapped[str] = mapped_column(String(63))


class FlagOverride(Base):
    """A tenant forced to one variant, whatever the rules and the rollout say."""

    __tablename__ = "flag_overrides"
    __table_args__ = (_flag_fk(),)

    province_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    flag_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    variant: Mapped[str] = mapped_column(String(63))
    reason: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class TenantRollout(Base):
    """The in-tenant percentage of a flag, as the tenant's wave has set it."""

    __tablename__ = "flag_tenant_rollouts"
    __table_args__ = (_flag_fk(),)

    province_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    flag_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    basis_points: Mapped[int] = mapped_column(Integer)  # 0..10000
    wave: Mapped[int | None] = mapped_column(Integer, default=None)
    since: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class RolloutPlan(Base):
    __tablename__ = "rollout_plans"
    __table_args__ = (_flag_fk(), UniqueConstraint("province_id", "flag_key"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = mapped_column(String(63))
    flag_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    current_wave: Mapped[int] = mapped_column(Integer, default=-1)  # -1: not started
    current_step: Mapped[int] = mapped_column(Integer, default=-1)  # index in the wave's ramp
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # pause when a wave's weekly active members fall by more than this fraction (0.3 = 30%);
    # None: the deployment's default (PILOTGRAPH_GUARDRAIL_DROP); 0: no guardrail for this plan
    guardrail_drop: Mapped[float | None] = mapped_column(Float, default=None)


class RolloutWave(Base):
    __tablename__ = "rollout_waves"

    province_id: Mapped[str] = _province_column()
    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rollout_plans.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # the in-tenant percentage steps, in basis points, e.g. [2500, 5000, 10000]
    ramp: Mapped[list[int]] = mapped_column(JSON)
    earliest_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    # gate: [{"metric": "activation_rate", "minimum": 0.9}, ...] held by the earlier waves
    gate_criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    gate_sustain_days: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class RolloutWaveTenant(Base):
    __tablename__ = "rollout_wave_tenants"
    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_id", "position"],
            ["rollout_waves.plan_id", "rollout_waves.position"],
            ondelete="CASCADE",
        ),
        Index("ix_rollout_wave_tenants_plan_position", "plan_id", "position"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    plan_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = _province_column()
    position: Mapped[int] = mapped_column(Integer)


class RolloutApproval(Base):
    """A step waiting for (or given) a second province admin's approval."""

    __tablename__ = "rollout_approvals"
    __table_args__ = (Index("ix_rollout_approvals_plan_status", "plan_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = _province_column()
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rollout_plans.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    # what was asked: the target wave/step and any gate override reason
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(200))
    # the requester's display name when they asked (the token's name claim), as the audit keeps it
    requested_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.PENDING.value)
    approved_by: Mapped[str | None] = mapped_column(String(200), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class ScheduledStep(Base):
    __tablename__ = "rollout_scheduled_steps"
    __table_args__ = (Index("ix_rollout_scheduled_steps_status_run_at", "status", "run_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = _province_column()
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rollout_plans.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    run_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    requested_by: Mapped[str] = mapped_column(String(200))
    # the requester's display name when they scheduled it; the step's audit rows name them so
    requested_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=StepStatus.PENDING.value)
    ran_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    ran_by: Mapped[str | None] = mapped_column(String(200), default=None)
    outcome: Mapped[str] = mapped_column(Text, default="")


class AuditEntry(Base):
    """One change: who, when, what (before and after), why. Never updated or deleted."""

    __tablename__ = "rollout_audit"
    __table_args__ = (
        Index("ix_rollout_audit_tenant_at", "tenant_id", "at"),
        Index("ix_rollout_audit_flag_at", "flag_key", "at"),
        Index("ix_rollout_audit_actor_at", "actor", "at"),
        Index("ix_rollout_audit_province_at", "province_id", "at"),
    )

    # time-ordered (see ``audit.next_id``): rows of one transaction share ``at`` yet keep order
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = mapped_column(String(63))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    # the actor's display name when they acted (the token's name claim), never resolved later
    actor_name: Mapped[str | None] = mapped_column(String(200), default=None)
    # subject and name, case-folded: what the partial actor match reads (``audit.actor_key``)
    actor_key: Mapped[str] = mapped_column(String(401))
    action: Mapped[str] = mapped_column(String(64))
    flag_key: Mapped[str | None] = mapped_column(String(100), default=None)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    tenant_id: Mapped[str | None] = mapped_column(String(63), default=None)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")


class RolloutNotice(Base):
    """Something the province admins should read, e.g. the guardrail paused a plan."""

    __tablename__ = "rollout_notices"
    __table_args__ = (
        Index("ix_rollout_notices_province_created", "province_id", "created_at"),
        Index("ix_rollout_notices_plan_wave", "plan_id", "wave", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    province_id: Mapped[str] = mapped_column(ForeignKey("provinces.id"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rollout_plans.id", ondelete="CASCADE"))
    flag_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    wave: Mapped[int | None] = mapped_column(Integer, default=None)
    message: Mapped[str] = mapped_column(Text)
    # what the notice is about, as numbers: e.g. the guardrail's per-tenant weekly actives
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), default=None)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(200), default=None)
