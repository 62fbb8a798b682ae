"""GraphQL errors with an ``extensions.code`` and the typed payload error of mutations."""

from __future__ import annotations

from enum import Enum

import strawberry
from graphql import GraphQLError


class PilotGraphError(GraphQLError):
    """An expected error: the client sees its code and message unmasked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def unauthenticated() -> PilotGraphError:
    return PilotGraphError("UNAUTHENTICATED", "Sign in: this field needs a bearer token.")


def tenant_required() -> PilotGraphError:
    return PilotGraphError(
        "TENANT_REQUIRED", "Choose a tenant: use /t/{tenant}/graphql or the X-Tenant header."
    )


def bad_input(message: str) -> PilotGraphError:
    return PilotGraphError("BAD_USER_INPUT", message)


@strawberry.enum
class ErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_ID = "INVALID_ID"
    INVALID_INPUT = "INVALID_INPUT"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"


@strawberry.type(description="An expected error of a mutation: which input, why, and a code.")
class UserError:
    field: str | None
    code: ErrorCode
    message: str
