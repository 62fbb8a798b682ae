"""Which tenant a field may read when the query names one by slug (``tenant(slug:)``, entities).

The rule is the tenancy middleware's (``Principal.covers``): the principal's home tenant, or any
tenant of its province for province roles. A router forwards the caller's token, so a reference
resolved for a router is checked against the caller, never against the router.
"""

from __future__ import annotations

from dataclasses import replace

from strawberry.types import Info

from rollout.registry import FlagKey
from schema.context import Context
from schema.errors import PilotGraphError, bad_input, tenant_required
from schema.permissions import Permission, Requires
from schema.rollout.gating import check_enabled, evaluation_context, full_evaluation_context
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry


def readable_tenant_or_raise(info: Info[Context, None], slug: str | None) -> TenantInfo:
    """The tenant ``slug`` names (or the request's), if the principal may read it."""
    context = info.context
    Requires(Permission.READ_HANDBOOK, needs_tenant=False).has_permission(None, info)
    if slug is None:
        if context.tenant is None:
            raise tenant_required()
        return context.tenant
    return covered_tenant_or_raise(context.principal_or_raise(), context.registry, slug)


MAX_SLUGS = 100


def check_slugs(slugs: list[str]) -> list[str]:
    """A list argument naming tenants: at most 100, each named once, in the order given."""
    if len(slugs) > MAX_SLUGS:
        raise bad_input(f"Name at most {MAX_SLUGS} tenants; got {len(slugs)}.")
    return list(dict.fromkeys(slugs))


def covered_tenant_or_raise(
    principal: Principal, registry: TenantRegistry, slug: str
) -> TenantInfo:
    """The tenant ``slug`` names, if ``principal`` covers it; shared with the adoption reads."""
    tenant = registry.get(slug)
    if tenant is None:
        raise PilotGraphError("TENANT_NOT_FOUND", f"Tenant '{slug}' does not exist.")
    if not principal.covers(tenant):
        raise PilotGraphError("FORBIDDEN_TENANT", f"Your role does not cover tenant '{slug}'.")
    return tenant


def require_handbook_reader(info: Info[Context, None]) -> None:
    """What ``requires(Permission.READ_HANDBOOK)`` checks, for entity resolvers it cannot wrap."""
    Requires(Permission.READ_HANDBOOK).has_permission(None, info)


async def check_handbook_on(context: Context, tenant_id: str) -> None:
    """FEATURE_DISABLED unless the handbook is on for the caller in ``tenant_id``.

    The gate of the root fields, evaluated for the tenant whose data is read: reading a tenant
    by slug is no way around a handbook that is still off there.
    """
    if context.tenant is not None and context.tenant.id == tenant_id:
        who = await full_evaluation_context(context)
    else:
        who = replace(evaluation_context(context), tenant=tenant_id)
    check_enabled(context, FlagKey.HANDBOOK, who)
