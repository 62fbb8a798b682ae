"""Errors of the tenants domain; each carries the data a caller needs to explain it."""

from __future__ import annotations

from db.errors import DomainError


class TenantsError(DomainError):
    """Root of every expected error raised by the tenants package."""

    code = "TENANTS_ERROR"


class TenantRequired(TenantsError):
    """The request names no tenant; every endpoint that needs one answers with this message."""

    code = "TENANT_REQUIRED"

    def __init__(self) -> None:
        super().__init__(
            "Choose a tenant: use the /t/{tenant}/ path, the tenant's host or the X-Tenant header."
        )


class TenantNotFound(TenantsError):
    code = "TENANT_NOT_FOUND"

    def __init__(self, slug: str) -> None:
        super().__init__(f"Tenant '{slug}' does not exist.")
        self.slug = slug


class NotFound(TenantsError):
    """A record is absent from the current tenant (or belongs to another, which looks the same)."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, *, field: str | None = None) -> None:
        super().__init__(f"{kind} not found.", field=field)
        self.kind = kind


class InvalidInput(TenantsError):
    code = "INVALID_INPUT"


class NotAllowed(TenantsError):
    """The principal's role allows the action in general, but not on this record."""

    code = "FORBIDDEN"


class Conflict(TenantsError):
    code = "CONFLICT"


class AlreadyErased(TenantsError):
    """The member's personal data was erased already: erasure is done once, and audited once."""

    code = "ALREADY_ERASED"

    def __init__(self) -> None:
        super().__init__("This member's personal data has already been erased.", field="memberId")


class InvalidCredentialInput(TenantsError):
    """A credential's name or expiry is not acceptable; nothing is written."""

    code = "INVALID_CREDENTIAL_INPUT"


class CredentialNotFound(TenantsError):
    """No credential with that id in the caller's province."""

    code = "CREDENTIAL_NOT_FOUND"

    def __init__(self, credential_id: str) -> None:
        super().__init__(f"There is no service credential {credential_id!r}.", field="id")
        self.credential_id = credential_id


class ProvinceNotFound(TenantsError):
    code = "PROVINCE_NOT_FOUND"

    def __init__(self, province_id: str) -> None:
        super().__init__(f"Province '{province_id}' does not exist.", field="province")
        self.province_id = province_id
