"""GraphQL errors with an ``extensions.code`` and the typed payload error of mutations.

The codes are the domain errors' own (:class:`db.errors.DomainError` subclasses): the
``ErrorCode`` enum is built from those classes, so a new error needs no second spelling here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from adoption import errors as adoption_errors
from db.errors import DomainError
from rollout import errors as rollout_errors
from schema import relay
from schema.unavailable import QUERY_TIMEOUT, RETRYABLE, SERVICE_UNAVAILABLE, classify
from tenants import errors as tenants_errors
from tenants.errors import TenantRequired
from tenants.permissions import UNAUTHENTICATED, Refused

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
logger = logging.getLogger("pilotgraph.errors")


class PilotGraphError(GraphQLError):
    """An expected error: the client sees its code and message unmasked."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})
        self.code = code


def from_domain(exc: DomainError) -> PilotGraphError:
    """A domain error as a top-level GraphQL error: same code, same message."""
    return PilotGraphError(exc.code, exc.message)


def from_refusal(refused: Refused) -> PilotGraphError:
    """An access policy's refusal as a top-level GraphQL error: same code, same message."""
    return PilotGraphError(refused.code, refused.message)


def unauthenticated() -> PilotGraphError:
    return from_refusal(UNAUTHENTICATED)


def tenant_required() -> PilotGraphError:
    return from_domain(TenantRequired())


def bad_input(message: str) -> PilotGraphError:
    return PilotGraphError("BAD_USER_INPUT", message)


# The modules whose errors a GraphQL client can meet; their roots only name a domain.
PAYLOAD_ERROR_MODULES = (tenants_errors, rollout_errors, adoption_errors, relay)
ROOTS = (tenants_errors.TenantsError, rollout_errors.RolloutError, adoption_errors.AdoptionError)


def domain_errors() -> list[type[DomainError]]:
    """Every concrete error class of :data:`PAYLOAD_ERROR_MODULES`, in a stable order."""
    modules = {module.__name__ for module in PAYLOAD_ERROR_MODULES}
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__ in modules and cls not in ROOTS:
            found.append(cls)
    return sorted(found, key=lambda cls: (cls.code, cls.__module__, cls.__qualname__))


def _error_code_enum() -> type[Enum]:
    codes = sorted({cls.code for cls in domain_errors()})
    # Enum's functional form: the members are known only once the error classes are.
    make: Any = Enum
    members: type[Enum] = make("ErrorCode", [(code, code) for code in codes])
    return strawberry.enum(members, description="What went wrong; one code per kind of refusal.")


ErrorCode = _error_code_enum()


@strawberry.type(description="An expected error of a mutation: which input, why, and a code.")
class UserError:
    field: str | None
    code: Enum = strawberry.field(graphql_type=ErrorCode)
    message: str

    @classmethod
    def from_domain(cls, exc: DomainError) -> UserError:
        """The payload error of a refused mutation: the domain error's field, code and text."""
        return cls(field=exc.field, code=ErrorCode(exc.code), message=exc.message)


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
