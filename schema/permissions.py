"""Declared permissions: each field names one, each role holds a fixed set.

Example::

    @strawberry.field(permission_classes=[Requires(Permission.READ_HANDBOOK)])
    async def notices(self, info: Info) -> list[Notice]: ...
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from schema.errors import PilotGraphError, tenant_required, unauthenticated
from tenants.types import Role


class Permission(StrEnum):
    READ_HANDBOOK = "read_handbook"
    READ_MEMBER_DETAILS = "read_member_details"
    MANAGE_MEETINGS = "manage_meetings"
    PUBLISH_NOTICES = "publish_notices"
    COMMENT_ON_DRAFTS = "comment_on_drafts"
    MANAGE_ROLLOUT = "manage_rollout"
    READ_ROLLOUT = "read_rollout"
    ADJUST_TENANT_RAMP = "adjust_tenant_ramp"
    READ_ADOPTION = "read_adoption"
    READ_PROVINCE_ADOPTION = "read_province_adoption"
    TRACK_EVENTS = "track_events"


_READ = {Permission.READ_HANDBOOK}
_MANAGE = {
    Permission.READ_HANDBOOK,
    Permission.READ_MEMBER_DETAILS,
    Permission.MANAGE_MEETINGS,
    Permission.PUBLISH_NOTICES,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset(_READ | {Permission.COMMENT_ON_DRAFTS}),
    Role.BRANCH_SECRETARY: frozenset(_MANAGE | {Permission.COMMENT_ON_DRAFTS}),
    Role.TENANT_ADMIN: frozenset(
        _MANAGE | {Permission.COMMENT_ON_DRAFTS, Permission.ADJUST_TENANT_RAMP}
    ),
    Role.PROVINCE_ADMIN: frozenset(_MANAGE | {Permission.MANAGE_ROLLOUT, Permission.READ_ROLLOUT}),
    # Auditors read the province's rollout state and audit log, and change nothing.
    Role.AUDITOR: frozenset(_READ | {Permission.READ_MEMBER_DETAILS, Permission.READ_ROLLOUT}),
}

# Adoption: province roles read the province's KPIs, tenant admins their tenant's; members
# (whatever their office) record their own app events.
_ADOPTION: dict[Role, set[Permission]] = {
    Role.MEMBER: {Permission.TRACK_EVENTS},
    Role.BRANCH_SECRETARY: {Permission.TRACK_EVENTS},
    Role.TENANT_ADMIN: {Permission.TRACK_EVENTS, Permission.READ_ADOPTION},
    Role.PROVINCE_ADMIN: {Permission.READ_ADOPTION, Permission.READ_PROVINCE_ADOPTION},
    Role.AUDITOR: {Permission.READ_ADOPTION, Permission.READ_PROVINCE_ADOPTION},
}
for _role, _extra in _ADOPTION.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def check_permission(roles: frozenset[Role], permission: Permission) -> None:
    """Raise FORBIDDEN unless ``roles`` grant ``permission``."""
    if permission not in permissions_of(roles):
        raise PilotGraphError(
            "FORBIDDEN", f"Your role does not allow {permission.value.replace('_', ' ')}."
        )


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
