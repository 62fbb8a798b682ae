"""The root schema: a Federation 2 subgraph (strawberry's federation Schema defaults to v2)."""

from __future__ import annotations

import logging
import uuid

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.federation import Schema

from schema.handbook.mutations import HandbookMutation
from schema.handbook.queries import HandbookQuery


@strawberry.type
class Query(HandbookQuery):
    pass


@strawberry.type
class Mutation(HandbookMutation):
    pass


class PilotGraphSchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Expected errors are the client's business; unexpected ones are logged when masked."""


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors only: expected ones carry a code, validation ones have no cause."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


logger = logging.getLogger("pilotgraph.errors")


def _with_code(error: GraphQLError) -> GraphQLError:
    """Give parse and validation errors a code too, so every error carries one."""
    if (error.extensions or {}).get("code"):
        return error
    code = (
        "GRAPHQL_PARSE_FAILED"
        if error.message.startswith("Syntax Error")
        else ("GRAPHQL_VALIDATION_FAILED" if error.original_error is None else "BAD_USER_INPUT")
    )
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors by ``INTERNAL_SERVER_ERROR`` with an id that is also logged."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(error) for error in super()._process_errors(errors)]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex
        logger.error(
            "unexpected error %s at %s",
            error_id,
            error.path,
            exc_info=error.original_error,
            extra={"error_id": error_id},
        )
        return GraphQLError(
            message=f"Unexpected error; quote error id {error_id}.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )


def build_schema() -> Schema:
    """Build the GraphQL schema."""
    return PilotGraphSchema(
        query=Query,
        mutation=Mutation,
        extensions=[lambda: MaskUnexpectedErrors(should_mask_error=_should_mask)],
    )


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, as exported to ``schema/schema.graphql``."""
    from strawberry.printer import print_schema

    return print_schema(schema) + "\n"
