"""The graphene-federation schema: extends PilotGraph's ``Tenant`` entity with its figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import graphene
from graphene_federation import LATEST_VERSION, build_schema, key

from member_development import service
from member_development.context import RequestContext, error
from member_development.models import Stage

MAX_PAGE = 100

CandidateStage = graphene.Enum.from_enum(
    Stage, name="CandidateStage", description="Identified → admitted, in order."
)


@dataclass(frozen=True)
class FiguresRow:
    """What the figure types resolve from: the service's figures and where they belong."""

    figures: service.Figures
    tenant_id: str = ""
    province: str = ""
    committees: tuple[FiguresRow, ...] = ()

    year = property(lambda self: self.figures.year)
    members_at_start = property(lambda self: self.figures.members_at_start)
    plan = property(lambda self: self.figures.plan)
    admitted = property(lambda self: self.figures.admitted)
    religious_believers = property(lambda self: self.figures.religious_believers)
    achievement_rate = property(lambda self: float(self.figures.achievement_rate))
    meets_three_percent_rule = property(lambda self: self.figures.meets_three_percent_rule)

    @property
    def tenant(self) -> Tenant:
        return Tenant(slug=self.tenant_id)


def _context(info: Any) -> RequestContext:
    context: RequestContext = info.context
    return context


class Candidate(graphene.ObjectType):
    class Meta:
        description = "A person on the way to party membership, counted in one plan year."

    id = graphene.ID(required=True)
    full_name = graphene.String(required=True)
    stage = graphene.Field(CandidateStage, required=True)
    is_religious_believer = graphene.Boolean(required=True)
    supplementary_class = graphene.String()


class CandidatePage(graphene.ObjectType):
    total_count = graphene.Int(required=True)
    nodes = graphene.List(graphene.NonNull(Candidate), required=True)


class SupplementaryClass(graphene.ObjectType):
    class Meta:
        description = "A supplementary-education class for candidates (e.g. junior high)."

    name = graphene.String(required=True)
    enrolled = graphene.Int(required=True)
    completed = graphene.Int(required=True)


class DevelopmentFigures(graphene.Interface):
    year = graphene.Int(required=True)
    members_at_start = graphene.Int(required=True)
    plan = graphene.Int(required=True, description="New members planned (default 3%).")
    admitted = graphene.Int(required=True)
    religious_believers = graphene.Int(required=True, description="Of those admitted.")
    achievement_rate = graphene.Float(
        required=True, description="Admitted as a percentage of plan, two decimals."
    )
    meets_three_percent_rule = graphene.Boolean(
        required=True, description="Admitted ≥ 3% of members at the start (Resolution 21-NQ/TW)."
    )


class MemberDevelopment(graphene.ObjectType):
    class Meta:
        interfaces = (DevelopmentFigures,)
        description = "A committee's admission of new members in one year."

    candidates = graphene.Field(
        CandidatePage,
        required=True,
        stage=graphene.Argument(CandidateStage),
        first=graphene.Int(default_value=50),
        description="Candidates of the year, by name (tenant admins, province roles).",
    )
    supplementary_classes = graphene.List(graphene.NonNull(SupplementaryClass), required=True)

    @staticmethod
    async def resolve_candidates(
        parent: Any, info: Any, first: int, stage: Any = None
    ) -> CandidatePage:
        context = _context(info)
        if not context.principal_or_raise().reads_candidates:
            raise error("FORBIDDEN", "Your role does not allow reading candidates.")
        if not 1 <= first <= MAX_PAGE:
            raise error("BAD_USER_INPUT", f"'first' must be between 1 and {MAX_PAGE}; got {first}.")
        rows, total = await context.run(
            service.candidates,
            tenant_id=parent.tenant_id,
            year=parent.year,
            stage=Stage(stage.value if hasattr(stage, "value") else stage) if stage else None,
            first=first,
        )
        nodes = [
            Candidate(
                id=row.id,
                full_name=row.full_name,
                stage=Stage(row.stage),
                is_religious_believer=row.is_religious_believer,
                supplementary_class=row.supplementary_class,
            )
            for row in rows
        ]
        return CandidatePage(total_count=total, nodes=nodes)

    @staticmethod
    async def resolve_supplementary_classes(parent: Any, info: Any) -> list[SupplementaryClass]:
        classes = await _context(info).run(
            service.supplementary_classes, tenant_id=parent.tenant_id, year=parent.year
        )
        return [
            SupplementaryClass(name=c.name, enrolled=c.enrolled, completed=c.completed)
            for c in classes
        ]


@key("slug")
class Tenant(graphene.ObjectType):
    slug = graphene.String(required=True)
    member_development = graphene.Field(
        MemberDevelopment,
        year=graphene.Int(required=True),
        description="Admission of new members in the year; null when the year has no plan.",
    )

    @staticmethod
    async def resolve_member_development(parent: Any, info: Any, year: int) -> FiguresRow | None:
        context = _context(info)
        tenant = await context.covered_tenant_or_raise(parent.slug)
        figures = await context.run(service.figures, tenant_id=tenant.slug, year=year)
        if figures is None:
            return None
        return FiguresRow(figures, tenant_id=tenant.slug)


class CommitteeDevelopment(graphene.ObjectType):
    class Meta:
        interfaces = (DevelopmentFigures,)

    tenant = graphene.Field(Tenant, required=True)


class ProvinceMemberDevelopment(graphene.ObjectType):
    class Meta:
        interfaces = (DevelopmentFigures,)
        description = "A province's admission of new members in one year, and each committee's."

    province = graphene.String(required=True)
    committees = graphene.List(graphene.NonNull(CommitteeDevelopment), required=True)


class Query(graphene.ObjectType):
    province_member_development = graphene.Field(
        ProvinceMemberDevelopment,
        province=graphene.String(required=True),
        year=graphene.Int(required=True),
        description="Province-wide figures (province admins and auditors).",
    )

    @staticmethod
    async def resolve_province_member_development(
        _parent: Any, info: Any, province: str, year: int
    ) -> FiguresRow | None:
        context = _context(info)
        if not context.principal_or_raise().covers_province(province):
            raise error("FORBIDDEN", f"Your role does not cover province '{province}'.")
        found = await context.run(service.province_figures, province_id=province, year=year)
        if found is None:
            return None
        total, each = found
        committees = tuple(FiguresRow(figures, tenant_id=slug) for slug, figures in each)
        return FiguresRow(total, province=province, committees=committees)


schema = build_schema(query=Query, federation_version=LATEST_VERSION)


def sdl() -> str:
    """The subgraph's SDL, as ``_service { sdl }`` answers it."""
    return str(schema)
