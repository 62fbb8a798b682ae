"""Declared permissions: each field names one; each role holds a fixed set
(:data:`tenants.permissions.ROLE_PERMISSIONS`, which the domains' access policies read too).

Example::

    @strawberry.field(permission_classes=[Requires(Permission.READ_HANDBOOK)])
    async def notices(self, info: Info) -> list[Notice]: ...
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from schema.errors import from_refusal, tenant_required, unauthenticated
from tenants.permissions import Permission, refusal
from tenants.types import Role

__all__ = ["Permission", "Requires", "check_permission", "requires"]


def check_permission(roles: frozenset[Role], permission: Permission) -> None:
    """Raise FORBIDDEN unless ``roles`` grant ``permission``."""
    if refused := refusal(roles, permission):
        raise from_refusal(refused)


class Requires(BasePermission):
    """Allow the field only to a signed-in principal, on a tenant, whose roles grant it."""

    def __init__(self, permission: Permission, *, needs_tenant: bool = True) -> None:
        self.permission = permission
        self.needs_tenant = needs_tenant

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        context = info.context
        if context.principal is None:
            raise unauthenticated()
        if self.needs_tenant and context.tenant is None:
            raise tenant_required()
        check_permission(context.principal.roles, self.permission)
        return True


def requires(permission: Permission, *, needs_tenant: bool = True) -> list[FieldExtension]:
    """The field extensions that enforce ``permission``; use as ``extensions=requires(...)``."""
    return [
        PermissionExtension(
            permissions=[Requires(permission, needs_tenant=needs_tenant)], use_directives=False
        )
    ]
