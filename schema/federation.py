"""Only the federation router reaches ``_service`` and ``_entities``.

The router proves itself with the shared secret ``PILOTGRAPH_ROUTER_TOKEN``, sent as the
``X-Router-Token`` header. With no secret configured, development allows them (so a newcomer's
local router works) and production refuses them. The caller's own ``Authorization`` still decides
what an entity reference may read: the router's credential opens the door, not the data.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import SchemaExtension

from gateway.settings import Settings

ROUTER_FIELDS = frozenset({"_service", "_entities"})
ROUTER_HEADER = "x-router-token"


def router_allowed(settings: Settings | None, header: str | None) -> bool:
    """Whether a request carrying ``header`` may use the router-only fields."""
    if settings is None:
        return False
    if settings.router_token is None:
        return not settings.is_production
    expected = settings.router_token.get_secret_value().encode()
    return header is not None and hmac.compare_digest(header.encode(), expected)


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
    """Adds :class:`RouterFieldsRule` to validation unless the request is the router's."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context.context
        request = getattr(context, "request", None)
        settings: Settings | None = None
        header = None
        if request is not None:
            settings = request.app.state.pilotgraph.settings
            header = request.headers.get(ROUTER_HEADER)
        if not router_allowed(settings, header):
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, RouterFieldsRule)
        yield
