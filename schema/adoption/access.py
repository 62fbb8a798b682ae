"""Who may read which adoption: province admins and auditors the province (and any of its
tenants, through the province path); tenant admins their own tenant. Shared by GraphQL and the
CSV export."""

from __future__ import annotations

from strawberry.types import Info

from adoption.read_model import Target
from schema.context import Context
from schema.errors import PilotGraphError, unauthenticated
from schema.permissions import Permission, check_permission
from schema.tenants.access import check_slugs, covered_tenant_or_raise
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry


def target_for(
    principal: Principal | None,
    registry: TenantRegistry,
    request_tenant: TenantInfo | None,
    slug: str | None,
) -> Target:
    """The tenant named by ``slug`` or, with no slug, the caller's province; raises
    :class:`PilotGraphError` when the principal may not read it."""
    if principal is None:
        raise unauthenticated()
    check_permission(principal.roles, Permission.READ_ADOPTION)
    if slug is None:
        check_permission(principal.roles, Permission.READ_PROVINCE_ADOPTION)
        province = province_for(principal, registry, request_tenant)
        tenants = tuple(t.id for t in registry.all() if t.province_id == province)
        return Target(tenants, province)
    tenant = covered_tenant_or_raise(principal, registry, slug)
    if principal.reaches_province:
        return Target.tenant(tenant.id, province_id=tenant.province_id)
    return Target.tenant(tenant.id)  # the caller's home tenant: the request's own scope


def tenants_target_for(
    principal: Principal | None, registry: TenantRegistry, slugs: list[str]
) -> Target:
    """Each tenant ``slugs`` names, every one covered by the principal (read tenant by tenant);
    raises :class:`PilotGraphError` like :func:`target_for`."""
    if principal is None:
        raise unauthenticated()
    check_permission(principal.roles, Permission.READ_ADOPTION)
    tenants = [covered_tenant_or_raise(principal, registry, slug) for slug in check_slugs(slugs)]
    ids = tuple(t.id for t in tenants)
    if principal.reaches_province and tenants:
        return Target(ids, tenants[0].province_id)  # a province role covers only its province
    return Target(ids)  # at most the caller's home tenant: the request's own scope


def province_for(
    principal: Principal, registry: TenantRegistry, request_tenant: TenantInfo | None
) -> str:
    """The province a province-wide read covers: the token's, the request tenant's, or the
    only province there is."""
    if principal.province:
        return principal.province
    if request_tenant is not None:
        return request_tenant.province_id
    provinces = {t.province_id for t in registry.all()}
    if len(provinces) == 1:
        return provinces.pop()
    raise PilotGraphError("PROVINCE_REQUIRED", "Choose a province: your token names none.")


def target_or_raise(info: Info[Context, None], slug: str | None) -> Target:
    """:func:`target_for` for a GraphQL field."""
    context = info.context
    return target_for(context.principal, context.registry, context.tenant, slug)


def tenants_target_or_raise(info: Info[Context, None], slugs: list[str]) -> Target:
    """:func:`tenants_target_for` for a GraphQL field."""
    return tenants_target_for(info.context.principal, info.context.registry, slugs)


def province_or_raise(info: Info[Context, None]) -> str:
    """:func:`province_for` for a GraphQL field."""
    context = info.context
    return province_for(context.principal_or_raise(), context.registry, context.tenant)
