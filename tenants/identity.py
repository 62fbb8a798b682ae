"""The verified caller: the gateway builds it, the schema and the domains read it.

It lives below the gateway so that ``schema`` never imports ``gateway`` (dependencies point down).
"""

from __future__ import annotations

from dataclasses import dataclass

from tenants.registry import TenantInfo
from tenants.types import PROVINCE_ROLES, Role


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: subject (member id or account), home tenant, roles, display name."""

    subject: str
    roles: frozenset[Role]
    tenant: str | None = None
    province: str | None = None
    # A service credential (OFREP only): no roles; a province-wide key has no home tenant.
    service: bool = False
    name: str | None = None  # the token's display name, if it carried one

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def reaches_province(self) -> bool:
        """Province admins and auditors may act on any tenant of their province."""
        return bool(self.roles & PROVINCE_ROLES)

    def covers(self, tenant: TenantInfo) -> bool:
        """Whether this principal may act on ``tenant``: its home, or any of its province's."""
        if self.tenant == tenant.id:
            return True
        if self.service and self.tenant is None:
            return self.province is not None and self.province == tenant.province_id
        # A province role always carries its province (gateway.claims); None is no wildcard.
        return (
            self.reaches_province
            and self.province is not None
            and self.province == tenant.province_id
        )
