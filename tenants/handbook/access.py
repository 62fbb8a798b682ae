"""Who is acting, and which branches their role lets them manage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tenants.types import Role

MANAGING_ROLES = frozenset({Role.TENANT_ADMIN, Role.PROVINCE_ADMIN})


@dataclass(frozen=True, slots=True)
class Actor:
    """The verified principal as the handbook sees it, inside one tenant."""

    subject: str
    roles: frozenset[Role]
    member_id: uuid.UUID | None = None
    branch_id: uuid.UUID | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def manages_tenant(self) -> bool:
        """Tenant and province admins manage every branch of the tenant."""
        return bool(self.roles & MANAGING_ROLES)

    @property
    def sees_whole_tenant(self) -> bool:
        """Everyone but plain members and secretaries reads every branch."""
        return self.manages_tenant or Role.AUDITOR in self.roles

    def manages_branch(self, branch_id: uuid.UUID) -> bool:
        """A secretary manages their own branch; admins manage all."""
        if self.manages_tenant:
            return True
        return Role.BRANCH_SECRETARY in self.roles and self.branch_id == branch_id

    def reads_branch(self, branch_id: uuid.UUID) -> bool:
        return self.sees_whole_tenant or self.branch_id == branch_id

    @property
    def readable_branch_ids(self) -> list[uuid.UUID] | None:
        """The branches this actor reads: None for every one, else their own (none without one)."""
        if self.sees_whole_tenant:
            return None
        return [self.branch_id] if self.branch_id else []
