"""Expected refusals of service credentials."""

from __future__ import annotations

from tenants.errors import TenantsError


class InvalidCredentialInput(TenantsError):
    """A credential's name or expiry is not acceptable; nothing is written."""

    code = "INVALID_CREDENTIAL_INPUT"


class CredentialNotFound(TenantsError):
    """No credential with that id in the caller's province."""

    code = "CREDENTIAL_NOT_FOUND"

    def __init__(self, credential_id: str) -> None:
        super().__init__(f"There is no service credential {credential_id!r}.", field="id")
        self.credential_id = credential_id
