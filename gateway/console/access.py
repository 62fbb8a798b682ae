"""Who may use the console: province admins, tenant admins (their tenant) and auditors."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.identity import Principal
from tenants.permissions import Permission, permissions_of
from tenants.types import Role

CONSOLE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.TENANT_ADMIN, Role.AUDITOR})


@dataclass(frozen=True, slots=True)
class ConsoleAccess:
    """What the console shows a signed-in admin; the API enforces it again on every call."""

    subject: str
    roles: tuple[str, ...]
    tenant: str | None
    can_manage_rollout: bool
    reads_province: bool
    adjusts_tenant_ramp: bool  # a tenant admin: their district's view and its ramp
    name: str | None = None  # who they are, for the header: see gateway.console.routes.session
    province: str | None = None  # a province role's province
    # the province's IANA zone: the console shows every time and day in it (routes.session)
    time_zone: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "roles": list(self.roles),
            "tenant": self.tenant,
            "canManageRollout": self.can_manage_rollout,
            "readsProvince": self.reads_province,
            "adjustsTenantRamp": self.adjusts_tenant_ramp,
            "name": self.name,
            "timeZone": self.time_zone,
        }


def console_access(principal: Principal) -> ConsoleAccess | None:
    """The principal's console access, or None when no role of theirs lets them in."""
    if not principal.roles & CONSOLE_ROLES:
        return None
    return ConsoleAccess(
        subject=principal.subject,
        roles=tuple(sorted(role.value for role in principal.roles)),
        tenant=principal.tenant,
        can_manage_rollout=principal.has(Role.PROVINCE_ADMIN),
        reads_province=principal.reaches_province,
        adjusts_tenant_ramp=Permission.ADJUST_TENANT_RAMP in permissions_of(principal.roles),
        name=principal.name,
        province=principal.province,
    )
