"""Which province a rollout read or write acts in, and which tenants it may name.

Flags, plans, waves, approvals, scheduled steps, audit and notices belong to a province. A
province admin or auditor acts in the province of their verified claim; a tenant admin in their
tenant's province. A tenant or province the principal does not cover answers exactly as one that
does not exist.
"""

from __future__ import annotations

from schema.context import Context
from schema.errors import PilotGraphError, tenant_required, unauthenticated


def rollout_province(context: Context) -> str:
    """The province the request's rollout reads and writes act in."""
    principal = context.principal
    if principal is None:
        raise unauthenticated()
    if not principal.reaches_province:
        if context.tenant is None:
            raise tenant_required()
        return str(context.tenant.province_id)
    if principal.province is None:  # the claims refuse this; fail closed all the same
        raise PilotGraphError("PROVINCE_REQUIRED", "Your token names no province.")
    return str(principal.province)


def covered_tenant_id(context: Context, slug: str) -> str:
    """``slug`` when it is a tenant of the request's province; else TENANT_NOT_FOUND."""
    tenant = context.registry.get(slug)
    if tenant is None or tenant.province_id != rollout_province(context):
        raise PilotGraphError("TENANT_NOT_FOUND", f"Tenant '{slug}' does not exist.")
    return slug
