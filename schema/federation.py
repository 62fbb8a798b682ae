"""Only the federation router reaches ``_service`` and ``_entities``; its references are checked.

The router proves itself with the shared secret ``PILOTGRAPH_ROUTER_TOKEN``, sent as the
``X-Router-Token`` header. With no secret configured, development allows them (so a newcomer's
local router works) and production refuses them. The caller's own ``Authorization`` still decides
what an entity reference may read: the router's credential opens the door, not the data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema_directives import Key

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


ENTITY_CODE = "INVALID_INPUT"


def entity_keys(types: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each entity type's key fields (``@key``), from a schema converter's type map."""
    keys: dict[str, frozenset[str]] = {}
    for name, type_ in types.items():
        definition = getattr(type_, "definition", None)
        for directive in getattr(definition, "directives", None) or ():
            if isinstance(directive, Key):
                keys[name] = frozenset(str(directive.fields).split())
    return keys


def representation_error(
    representation: object, index: int, keys: Mapping[str, frozenset[str]]
) -> GraphQLError | None:
    """Why a router's representation cannot be resolved, or None when it is well-formed.

    A representation names an entity type and exactly its key fields, each a non-empty string;
    anything else is refused per index with ``INVALID_INPUT`` instead of failing inside
    ``resolve_reference`` as an unexpected error.
    """
    message = _representation_problem(representation, keys)
    if message is None:
        return None
    return GraphQLError(f"Representation {index}: {message}", extensions={"code": ENTITY_CODE})


def _representation_problem(
    representation: object, keys: Mapping[str, frozenset[str]]
) -> str | None:
    if not isinstance(representation, dict):
        return "a representation must be an object with __typename and the entity's key."
    typename = representation.get("__typename")
    wanted = keys.get(typename) if isinstance(typename, str) else None
    if wanted is None:
        known = ", ".join(sorted(keys))
        return f"__typename {_shown(typename)} is no entity type; entities are {known}."
    given = set(representation) - {"__typename"}
    if missing := sorted(wanted - given):
        return f"a {typename} representation needs its key field {_names(missing)}."
    if extra := sorted(given - wanted):
        return f"a {typename} representation takes only its key, not {_names(extra)}."
    for name in sorted(wanted):
        if not isinstance(representation[name], str) or not representation[name]:
            return f"the key field '{name}' of a {typename} representation must be a string."
    return None


def _names(names: list[str]) -> str:
    return ", ".join(_shown(name) for name in names)


def _shown(value: object) -> str:
    # repr escapes U+0000 and lone surrogates, so the answer can always be encoded as UTF-8.
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."
