"""Only the federation router reaches ``_service`` and ``_entities``.

The router proves itself with the shared secret ``PILOTGRAPH_ROUTER_TOKEN``, sent as the
``X-Router-Token`` header. With no secret configured, development allows them (so a newcomer's
local router works) and production refuses them. The caller's own ``Authorization`` still decides
what an entity reference may read: the router's credential opens the door, not the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import SchemaExtension

ROUTER_FIELDS = frozenset({"_service", "_entities"})


class RouterFieldsRule(ValidationRule):
    """Refuses ``_service`` and ``_entities`` on the query type, through fragments too."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        query_type = self.context.schema.query_type
        if node.name.value in ROUTER_FIELDS and parent is not None and parent is query_type:
            self.report_error(
                GraphQLError(
                    f"'{node.name.value}' is reserved for the federation router.",
                    node,
                    extensions={"code": "ROUTER_CREDENTIAL_REQUIRED"},
                )
            )


class RouterOnlyFields(SchemaExtension):
    """Adds :class:`RouterFieldsRule` to validation unless the gateway let the router in.

    The gateway checks the router's credential and hands its verdict to the context
    (``Context.router``); the schema never reads settings or headers itself.
    """

    def on_validate(self) -> Iterator[None]:
        if not getattr(self.execution_context.context, "router", False):
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, RouterFieldsRule)
        yield
