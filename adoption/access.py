"""Who may read which adoption figures: a pure decision over the principal and the tenants.

Province admins and auditors read their province, and any of its tenants through the province
path; tenant admins read their own tenant. GraphQL (``schema.adoption.access``) and the CSV
export (``gateway.adoption_export``) both ask here and answer a :class:`Refused` in their own way.
"""

from __future__ import annotations

from adoption.read_model import Target
from tenants.identity import Principal
from tenants.permissions import (
    UNAUTHENTICATED,
    Permission,
    Refused,
    Tenants,
    covered_tenant,
    refusal,
)
from tenants.registry import TenantInfo


def target_for(
    *,
    principal: Principal | None,
    registry: Tenants,
    request_tenant: TenantInfo | None,
    slug: str | None,
) -> Target | Refused:
    """The tenant named by ``slug`` or, with no slug, the caller's province; or why not."""
    if principal is None:
        return UNAUTHENTICATED
    if refused := refusal(principal.roles, Permission.READ_ADOPTION):
        return refused
    if slug is None:
        return _province_target(principal, registry, request_tenant)
    tenant = covered_tenant(principal, registry, slug)
    if isinstance(tenant, Refused):
        return tenant
    if principal.reaches_province:
        return Target.tenant(tenant.id, province_id=tenant.province_id)
    return Target.tenant(tenant.id)  # the caller's home tenant: the request's own scope


def tenants_target_for(
    *, principal: Principal | None, registry: Tenants, slugs: list[str]
) -> Target | Refused:
    """Each tenant ``slugs`` names, every one covered by the principal (read tenant by tenant);
    or the first refusal."""
    if principal is None:
        return UNAUTHENTICATED
    if refused := refusal(principal.roles, Permission.READ_ADOPTION):
        return refused
    tenants: list[TenantInfo] = []
    for slug in slugs:
        tenant = covered_tenant(principal, registry, slug)
        if isinstance(tenant, Refused):
            return tenant
        tenants.append(tenant)
    ids = tuple(t.id for t in tenants)
    if principal.reaches_province and tenants:
        return Target(ids, tenants[0].province_id)  # a province role covers only its province
    return Target(ids)  # at most the caller's home tenant: the request's own scope


def _province_target(
    principal: Principal, registry: Tenants, request_tenant: TenantInfo | None
) -> Target | Refused:
    if refused := refusal(principal.roles, Permission.READ_PROVINCE_ADOPTION):
        return refused
    province = province_for(principal=principal, registry=registry, request_tenant=request_tenant)
    if isinstance(province, Refused):
        return province
    return Target(tuple(t.id for t in registry.all() if t.province_id == province), province)


def province_for(
    *, principal: Principal, registry: Tenants, request_tenant: TenantInfo | None
) -> str | Refused:
    """The province a province-wide read covers: the token's, the request tenant's, or the
    only province there is."""
    if principal.province:
        return principal.province
    if request_tenant is not None:
        return request_tenant.province_id
    provinces = {t.province_id for t in registry.all()}
    if len(provinces) == 1:
        return provinces.pop()
    return Refused("PROVINCE_REQUIRED", "Choose a province: your token names none.")
