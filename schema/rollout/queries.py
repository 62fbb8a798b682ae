"""Rollout queries: the member's features, a flag's rollout for province admins, and a
tenant admin's own district in it."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from rollout import audit, flag_list, notices, ramps, status
from schema.context import Context
from schema.errors import PilotGraphError, bad_input
from schema.fields import field
from schema.permissions import Permission, requires
from schema.rollout import audit_cursor
from schema.rollout.access import covered_tenant_id, rollout_province
from schema.rollout.features import features_context, snapshot_for
from schema.rollout.flag_types import FlagDefinition
from schema.rollout.types import (
    AuditRecord,
    DistrictRollout,
    FeatureEvaluation,
    RolloutNotice,
    RolloutState,
    evaluate_all,
)

MAX_AUDIT = 200
MAX_NOTICES = 500


def _check_first(first: int, maximum: int) -> None:
    if not 0 < first <= maximum:
        raise bad_input(f"first must be 1 to {maximum}.")


@strawberry.type
class RolloutQuery:
    @field(
        extensions=requires(Permission.READ_HANDBOOK),
        description="Every product flag as evaluated for the signed-in member.",
    )
    async def features(self, info: Info[Context, None]) -> list[FeatureEvaluation]:
        who = await features_context(info.context)
        return evaluate_all(snapshot_for(info.context, who.tenant), who)

    @field(
        extensions=requires(Permission.READ_ROLLOUT, needs_tenant=False),
        description="A flag's rollout in your province: each tenant's state and each wave's "
        "gate, now.",
    )
    async def rollout(self, info: Info[Context, None], flag: str) -> RolloutState:
        ctx = info.context
        found = await ctx.run_province(
            status.state,
            province_id=rollout_province(ctx),
            flag_key=flag,
            kpis=ctx.kpis,
            now=ctx.now,
            policy=ctx.guardrail,
        )
        if found is None:
            raise PilotGraphError("PLAN_NOT_FOUND", f"The flag {flag!r} has no rollout plan.")
        return RolloutState.from_view(found)

    @field(
        extensions=requires(Permission.READ_ROLLOUT, needs_tenant=False),
        description="The flags your province has configured, by key: state, version, parents, "
        "variants, targeting rules in order, each tenant's override and the rollout plan's "
        "position. Province admins and auditors; flags never configured serve their catalogue "
        "default and are not listed.",
    )
    async def rollout_flags(self, info: Info[Context, None]) -> list[FlagDefinition]:
        ctx = info.context
        rows = await ctx.run_province(flag_list.province_flags, province_id=rollout_province(ctx))
        return [FlagDefinition.from_listing(r) for r in rows]

    @field(
        extensions=requires(Permission.READ_ROLLOUT, needs_tenant=False),
        description="Audited rollout changes of your province matching every given filter, "
        "newest first (time, then id), `first` (at most 200) at a time after the row whose "
        "`cursor` is `after`. `actor` matches part of the subject or name in any case; "
        "`tenant` also matches the plan steps that reached that tenant's wave.",
    )
    async def rollout_audit(
        self,
        info: Info[Context, None],
        flag: str | None = None,
        tenant: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        first: int = 100,
        after: str | None = None,
    ) -> list[AuditRecord]:
        _check_first(first, MAX_AUDIT)
        ctx = info.context
        where = audit.AuditFilter(
            flag_key=flag,
            tenant_id=None if tenant is None else covered_tenant_id(ctx, tenant),
            actor=actor,
            action=action,
            since=since,
            until=until,
        )
        rows = await ctx.run_province(
            audit.page,
            province_ids=[rollout_province(ctx)],
            where=where,
            after=None if after is None else audit_cursor.decode(after),
            limit=first,
        )
        return [AuditRecord.from_entry(r) for r in rows]

    @field(
        extensions=requires(Permission.ADJUST_TENANT_RAMP),
        description="Your own district in a flag's rollout (tenant admins): its state, and the "
        "bounds and plan version setTenantRamp takes.",
    )
    async def district_rollout(self, info: Info[Context, None], flag: str) -> DistrictRollout:
        ctx = info.context
        found = await ctx.run_province(
            ramps.district,
            province_id=rollout_province(ctx),
            tenant_id=ctx.tenant_id,
            flag_key=flag,
        )
        if found is None:
            raise PilotGraphError("PLAN_NOT_FOUND", f"The flag {flag!r} has no rollout plan.")
        return DistrictRollout.from_ramp(flag, found)

    @field(
        extensions=requires(Permission.READ_ROLLOUT, needs_tenant=False),
        description="Notices to your province's admins (e.g. the guardrail paused a plan), "
        "newest first.",
    )
    async def rollout_notices(
        self,
        info: Info[Context, None],
        flag: str | None = None,
        unacknowledged_only: bool = False,
        first: int = 100,
    ) -> list[RolloutNotice]:
        _check_first(first, MAX_NOTICES)
        ctx = info.context
        rows = await ctx.run_province(
            notices.query,
            province_id=rollout_province(ctx),
            flag_key=flag,
            unacknowledged_only=unacknowledged_only,
            limit=first,
        )
        return [RolloutNotice.from_model(r) for r in rows]
