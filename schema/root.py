"""The root schema: a Federation 2 subgraph (strawberry's federation Schema defaults to v2)."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from schema.adoption.erasure import ErasureMutation
from schema.adoption.mutations import AdoptionMutation
from schema.adoption.queries import AdoptionQuery
from schema.document_cache import CachedDocuments
from schema.errors import unexpected
from schema.execution import PlainLeafExecution
from schema.federation import RouterOnlyFields, entity_keys, representation_error
from schema.handbook.memberships import MembershipMutation
from schema.handbook.mutations import HandbookMutation
from schema.handbook.queries import HandbookQuery
from schema.observe import OperationRecorder, record_error_id
from schema.rollout.decisions import RolloutDecisionMutation
from schema.rollout.mutations import RolloutMutation
from schema.rollout.queries import RolloutQuery
from schema.rollout.subscriptions import RolloutSubscription
from schema.rollout.webhooks import WebhookMutation, WebhookQuery
from schema.tenants.credentials import CredentialsMutation, CredentialsQuery
from schema.text_arguments import TextArguments


@strawberry.type
class Query(HandbookQuery, AdoptionQuery, RolloutQuery, WebhookQuery, CredentialsQuery):
    pass


@strawberry.type
class Mutation(
    HandbookMutation,
    AdoptionMutation,
    ErasureMutation,
    RolloutMutation,
    RolloutDecisionMutation,
    WebhookMutation,
    CredentialsMutation,
    MembershipMutation,
):
    pass


@strawberry.type
class Subscription(RolloutSubscription):
    pass


class PilotGraphSchema(Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Expected errors are the client's business; unexpected ones are logged when masked."""

    # Strawberry reads this resolver's annotations to build ``_entities``: they must resolve
    # at runtime, hence ``Info`` and ``FederationAny`` imported outside TYPE_CHECKING.
    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """Resolve the router's references; a malformed one gets its own coded error."""
        keys = entity_keys(self.schema_converter.type_map)
        refused = [representation_error(r, i, keys) for i, r in enumerate(representations)]
        valid = [r for r, error in zip(representations, refused, strict=True) if error is None]
        resolved = iter(super().entities_resolver(info, valid))
        # An error stands in for its entity, as strawberry's own resolver returns exceptions;
        # the declared item type cannot say so (the list type is strawberry's, invariant).
        return [next(resolved) if error is None else error for error in refused]  # type: ignore[misc]


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected errors only: expected ones carry a code, validation ones have no cause."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


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
    """Replace unexpected errors by a coded one (:func:`schema.errors.unexpected`) with an id
    that is also logged: ``SERVICE_UNAVAILABLE``, ``QUERY_TIMEOUT`` or ``INTERNAL_SERVER_ERROR``."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(error) for error in super()._process_errors(errors)]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        fault = unexpected(error.original_error, at=error.path)
        record_error_id(self.execution_context.context, fault.error_id)
        return GraphQLError(
            message=fault.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=fault.extensions,
        )


def build_schema(*, tracing: bool = False) -> Schema:
    """Build the GraphQL schema; ``tracing`` adds an OpenTelemetry span per operation."""
    extensions: list[Any] = [
        lambda: MaskUnexpectedErrors(should_mask_error=_should_mask),
        OperationRecorder,
        RouterOnlyFields,
        # Bounded in bytes: distinct documents from the internet must not grow memory without end.
        CachedDocuments,
        # After CachedDocuments: a cached document skips validation, not this check.
        TextArguments,
    ]
    if tracing:
        from schema.spans import OperationSpans

        extensions.append(OperationSpans)
    return PilotGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=PlainLeafExecution,
    )


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, as exported to ``schema/schema.graphql``."""
    from strawberry.printer import print_schema

    return print_schema(schema) + "\n"
