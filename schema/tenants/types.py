"""GraphQL types of the hierarchy: province and tenant (its branches are the handbook's)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.fields import field
from schema.handbook.types import Branch
from schema.tenants.access import check_handbook_on, readable_tenant_or_raise
from tenants import service
from tenants.models import TenantKind
from tenants.registry import TenantInfo

# Marks the domain enum itself as a GraphQL enum, so fields can be annotated with it.
strawberry.enum(TenantKind, name="TenantKind")


@strawberry.type
class Province:
    slug: str
    name: str
    timezone: str


@strawberry.federation.type(
    keys=["slug"], description="A district-level party committee: the unit of tenancy."
)
class Tenant:
    slug: str
    name: str
    kind: TenantKind
    province: Province

    @field(description="Grassroots party organisations of the tenant.")
    async def organisation_count(self, info: Info[Context, None]) -> int:
        return await info.context.run_for(self.slug, service.count_organisations)

    @field(description="Party members of the tenant.")
    async def member_count(self, info: Info[Context, None]) -> int:
        return await info.context.run_for(self.slug, service.count_members)

    @field(description="Branches the caller may read: every one for admins, else their own.")
    async def branches(self, info: Info[Context, None]) -> list[Branch]:
        await check_handbook_on(info.context, self.slug)
        scope = (await info.context.actor_in(self.slug)).readable_branch_ids
        rows = await info.context.run_for(self.slug, service.list_branches, branch_ids=scope)
        return [Branch.from_model(row) for row in rows]

    @classmethod
    def resolve_reference(cls, info: Info[Context, None], slug: str) -> Tenant:
        """A router's reference: only a tenant the caller's token covers (FORBIDDEN_TENANT)."""
        return cls.from_info(readable_tenant_or_raise(info, slug))

    @classmethod
    def from_info(cls, tenant: TenantInfo) -> Tenant:
        return cls(
            slug=tenant.id,
            name=tenant.name,
            kind=TenantKind(tenant.kind),
            province=Province(
                slug=tenant.province_id, name=tenant.province_name, timezone=tenant.timezone
            ),
        )
