"""What each role may do, and the refusals every layer answers alike.

Beside :mod:`tenants.identity` because the schema (field permissions) and the domains' access
policies (``adoption.access``, which the CSV export also asks) decide over the same principal
and the same table; each caller turns a :class:`Refused` into its own kind of answer: a GraphQL
field error, or a JSON error with an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tenants.identity import Principal
from tenants.registry import TenantInfo
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
    # Erase a member's personal data (Decree 13/2023): the tenant's admin, or a province admin
    # acting on a tenant of their province; never a member, secretary or auditor.
    ERASE_MEMBER_DATA = "erase_member_data"
    MANAGE_SERVICE_CREDENTIALS = "manage_service_credentials"
    # Record a member leaving, rejoining or transferring to another tenant of the province (the
    # membership history past KPIs read): the tenant's admin, or a province admin.
    RECORD_MEMBERSHIP = "record_membership"


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
        _MANAGE
        | {
            Permission.COMMENT_ON_DRAFTS,
            Permission.ADJUST_TENANT_RAMP,
            Permission.ERASE_MEMBER_DATA,
            Permission.RECORD_MEMBERSHIP,
        }
    ),
    Role.PROVINCE_ADMIN: frozenset(
        _MANAGE
        | {
            Permission.MANAGE_ROLLOUT,
            Permission.READ_ROLLOUT,
            Permission.ERASE_MEMBER_DATA,
            Permission.RECORD_MEMBERSHIP,
            Permission.MANAGE_SERVICE_CREDENTIALS,  # API keys of the province's other backends
        }
    ),
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


class Tenants(Protocol):
    """What the decisions read of the tenants: :class:`tenants.registry.TenantRegistry`."""

    def get(self, slug: str) -> TenantInfo | None: ...

    def all(self) -> list[TenantInfo]: ...


@dataclass(frozen=True, slots=True)
class Refused:
    """A decision against the caller: the public error code and the sentence the caller sees."""

    code: str
    message: str


UNAUTHENTICATED = Refused("UNAUTHENTICATED", "Sign in: this field needs a bearer token.")


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def refusal(roles: frozenset[Role], permission: Permission) -> Refused | None:
    """FORBIDDEN unless ``roles`` grant ``permission``; None when they do."""
    if permission in permissions_of(roles):
        return None
    return Refused("FORBIDDEN", f"Your role does not allow {permission.value.replace('_', ' ')}.")


def covered_tenant(principal: Principal, registry: Tenants, slug: str) -> TenantInfo | Refused:
    """The tenant ``slug`` names, if ``principal`` covers it (the tenancy middleware's rule)."""
    tenant = registry.get(slug)
    if tenant is None:
        return Refused("TENANT_NOT_FOUND", f"Tenant '{slug}' does not exist.")
    if not principal.covers(tenant):
        return Refused("FORBIDDEN_TENANT", f"Your role does not cover tenant '{slug}'.")
    return tenant
