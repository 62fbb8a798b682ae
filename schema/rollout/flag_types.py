"""GraphQL types of the province's flag list: definitions, targeting rules, overrides, plans."""

from __future__ import annotations

import datetime as dt

import strawberry

from rollout.flag_list import FlagListing, OverrideListing, PlanSummary, RuleListing
from schema.rollout.people import author_name


@strawberry.type(
    description="Serve ``variant`` when every attribute with values matches one of them (null: "
    "the rule does not look at that attribute); rules apply in order."
)
class FlagRule:
    tenants: list[str] | None
    roles: list[str] | None
    branches: list[str] | None
    members: list[str] | None
    variant: str

    @classmethod
    def from_listing(cls, rule: RuleListing) -> FlagRule:
        values = {attr: list(accepted) for attr, accepted in rule.conditions}
        return cls(
            tenants=values.get("tenant"),
            roles=values.get("role"),
            branches=values.get("branch"),
            members=values.get("member"),
            variant=rule.variant,
        )


@strawberry.type(description="A tenant of your province forced to one variant.")
class FlagOverride:
    tenant: str
    variant: str
    reason: str
    updated_by: str = strawberry.field(description="The subject of the admin who set it.")
    updated_by_name: str | None = author_name("That admin")
    updated_at: dt.datetime

    @classmethod
    def from_listing(cls, o: OverrideListing) -> FlagOverride:
        return cls(
            tenant=o.tenant_id,
            variant=o.variant,
            reason=o.reason,
            updated_by=o.updated_by,
            updated_by_name=o.updated_by_name,
            updated_at=o.updated_at,
        )


@strawberry.type(description="Where a flag's rollout plan is (``rollout(flag)`` has it all).")
class FlagPlanSummary:
    status: str = strawberry.field(description="draft, running, paused or completed.")
    wave: int = strawberry.field(description="The current wave's position (-1: not started).")
    step: int = strawberry.field(description="The step in the wave's ramp (-1: not started).")
    wave_name: str | None
    percentage: float = strawberry.field(description="The current wave's in-tenant percentage.")
    version: int = strawberry.field(
        description="The plan's version (plan actions' expectedVersion)."
    )

    @classmethod
    def from_summary(cls, p: PlanSummary) -> FlagPlanSummary:
        return cls(
            status=p.status,
            wave=p.wave,
            step=p.step,
            wave_name=p.wave_name,
            percentage=p.basis_points / 100,
            version=p.version,
        )


@strawberry.type(description="A flag your province has configured, with its targeting.")
class FlagDefinition:
    key: str
    description: str
    kind: str = strawberry.field(description="boolean or string.")
    state: str = strawberry.field(
        description="active, killed (off everywhere in the province: the kill switch) or archived."
    )
    version: int = strawberry.field(description="setFlagState's and setFlagRules' expectedVersion.")
    parents: list[str] = strawberry.field(
        description="The flags that must be on for this one to be, outermost first."
    )
    variants: list[str]
    default_variant: str = strawberry.field(
        description="Served when no rule, override or wave applies."
    )
    rollout_variant: str = strawberry.field(
        description="Served to members inside a wave's percentage."
    )
    rules: list[FlagRule] = strawberry.field(
        description="Targeting rules, in the order they apply."
    )
    overrides: list[FlagOverride] = strawberry.field(description="By tenant; they beat every rule.")
    plan: FlagPlanSummary | None = strawberry.field(
        description="Null: the flag has no rollout plan."
    )

    @classmethod
    def from_listing(cls, f: FlagListing) -> FlagDefinition:
        return cls(
            key=f.key,
            description=f.description,
            kind=f.kind,
            state=f.state,
            version=f.version,
            parents=list(f.parents),
            variants=list(f.variants),
            default_variant=f.default_variant,
            rollout_variant=f.rollout_variant,
            rules=[FlagRule.from_listing(r) for r in f.rules],
            overrides=[FlagOverride.from_listing(o) for o in f.overrides],
            plan=None if f.plan is None else FlagPlanSummary.from_summary(f.plan),
        )
