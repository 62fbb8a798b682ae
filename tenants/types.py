"""Shared vocabulary of the domain: identifiers and roles."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import NewType

TenantId = NewType("TenantId", str)
ProvinceId = NewType("ProvinceId", str)
MemberId = NewType("MemberId", uuid.UUID)


class Role(StrEnum):
    MEMBER = "member"
    BRANCH_SECRETARY = "branch_secretary"
    TENANT_ADMIN = "tenant_admin"
    PROVINCE_ADMIN = "province_admin"
    AUDITOR = "auditor"


# Roles whose reach is the whole province rather than one tenant.
PROVINCE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.AUDITOR})
