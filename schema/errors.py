"""GraphQL errors with an ``extensions.code`` and the typed payload error of mutations."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from enum import Enum

import strawberry
from graphql import GraphQLError

from schema.unavailable import QUERY_TIMEOUT, RETRYABLE, SERVICE_UNAVAILABLE, classify

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
logger = logging.getLogger("pilotgraph.errors")


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


_MESSAGES = {
    SERVICE_UNAVAILABLE: "The database is unavailable; retry shortly (error id {id}).",
    QUERY_TIMEOUT: "The query took too long and was cancelled; retry shortly (error id {id}).",
    INTERNAL_SERVER_ERROR: "Unexpected error; quote error id {id}.",
}


@dataclass(frozen=True)
class Unexpected:
    """What a client sees of an exception nobody expected: a code, a generic message, an id."""

    code: str
    message: str
    error_id: str

    @property
    def retryable(self) -> bool:
        """The database failed or was too slow, not the request: answer 503 with Retry-After."""
        return self.code in RETRYABLE

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code, "errorId": self.error_id}


def unexpected(error: BaseException | None, *, at: object = None) -> Unexpected:
    """The one mapping of unexpected exceptions, for GraphQL and every other endpoint.

    The stack trace is logged here, once, under an id the client also sees; the message never
    carries more than the id (a stack trace or SQL would tell an attacker about the schema).
    """
    error_id = uuid.uuid4().hex
    fault = Unexpected(classify(error) or INTERNAL_SERVER_ERROR, "", error_id)
    logger.error(
        "unexpected error %s at %s (%s)",
        error_id,
        at,
        fault.code,
        exc_info=error,
        extra={"error_id": error_id, "code": fault.code},
    )
    return replace(fault, message=_MESSAGES[fault.code].format(id=error_id))
